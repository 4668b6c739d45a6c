package io.quarkiverse.leader.it;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;

/**
 * A bare JVM that takes an advisory lock on a plain session and holds it until it is killed: the benchmark's floor for
 * a takeover after SIGKILL. Arguments: the database URL and the lock key.
 */
public final class BareLockHolder {

    private BareLockHolder() {
    }

    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        PgConnection conn = PgConnection.connect(vertx, PgConnectOptions.fromUri(args[0])).toCompletionStage()
                .toCompletableFuture().get();
        conn.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(Long.parseLong(args[1])))
                .toCompletionStage().toCompletableFuture().get();
        System.out.println("locked");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
