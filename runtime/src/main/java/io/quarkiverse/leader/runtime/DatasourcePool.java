package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

import org.jboss.logging.Logger;

import io.quarkus.arc.Arc;
import io.quarkus.reactive.datasource.ReactiveDataSource;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;

/**
 * The pool of the election's reactive datasource, the bean Quarkus produces for it, looked up on first use: sends and
 * fenced transactions go through it, the election's own session never does. With several URLs the pool opens its
 * connections round-robin over them and may give out one to a standby: a write refused there is tried again on
 * another connection (see {@link #write}).
 */
final class DatasourcePool {

    private static final Logger LOG = Logger.getLogger(DatasourcePool.class);

    /** SQLSTATE read_only_sql_transaction: a write on a standby, or on a server that is read-only. */
    static final String READ_ONLY = "25006";
    /** A connection to a standby is ended, so more tries mean more standby connections dropped; each waits longer. */
    static final int READ_ONLY_RETRIES = 20;
    static final Duration READ_ONLY_FIRST_DELAY = Duration.ofMillis(10);
    static final Duration READ_ONLY_MAX_DELAY = Duration.ofMillis(500);

    /** How long a connection whose backend was ended may take to close. */
    private static final Duration END_BACKEND_BOUND = Duration.ofSeconds(1);

    private final Optional<String> datasource;
    private volatile io.vertx.mutiny.sqlclient.Pool pool;

    DatasourcePool(Optional<String> datasource) {
        this.datasource = datasource;
    }

    io.vertx.mutiny.sqlclient.Pool mutiny() {
        io.vertx.mutiny.sqlclient.Pool current = pool;
        if (current == null) {
            current = datasource
                    .map(ds -> Arc.container().select(io.vertx.mutiny.sqlclient.Pool.class,
                            new ReactiveDataSource.ReactiveDataSourceLiteral(ds)))
                    .orElseGet(() -> Arc.container().select(io.vertx.mutiny.sqlclient.Pool.class))
                    .get();
            pool = current;
        }
        return current;
    }

    Pool vertx() {
        return mutiny().getDelegate();
    }

    /** Runs a statement that writes, on a connection to a primary; see {@link #onPrimary(Function)}. */
    Uni<RowSet<Row>> write(String sql, Tuple params) {
        return onPrimary(conn -> conn.preparedQuery(sql).execute(params));
    }

    /**
     * Runs {@code work} on a pooled connection and, when the server refuses it as read-only ({@value #READ_ONLY}: the
     * connection reached a standby), ends that connection's backend, so that the pool drops it, and runs it again on
     * another: the pool's next connection goes to the next URL. Tried {@value #READ_ONLY_RETRIES} times at most, and no
     * longer than the caller's own bound. A refused write changed nothing, so it may run again.
     */
    <T> Uni<T> onPrimary(Function<SqlConnection, Uni<T>> work) {
        return Uni.createFrom().deferred(() -> mutiny().getConnection().chain(conn -> released(conn, work.apply(conn))))
                .onFailure(DatasourcePool::readOnly).retry().withBackOff(READ_ONLY_FIRST_DELAY, READ_ONLY_MAX_DELAY)
                .withJitter(0.5).atMost(READ_ONLY_RETRIES);
    }

    /** {@code work} on {@code conn}, which goes back to the pool after it, unless it reached a read-only server. */
    private static <T> Uni<T> released(SqlConnection conn, Uni<T> work) {
        return work.onCancellation().call(conn::close)
                .onFailure().call(failure -> readOnly(failure) ? endBackend(conn) : conn.close())
                .call(conn::close);
    }

    /** Whether {@code failure} is the server refusing a write because it is a standby or read-only. */
    static boolean readOnly(Throwable failure) {
        return failure instanceof PgException e && READ_ONLY.equals(e.getSqlState());
    }

    /**
     * Ends the server backend of {@code conn}, a connection to a read-only server, so that the pool drops it rather
     * than hand it out again. The connection is not given back: the pool removes a connection that closes, and one
     * given back as it closes would be handed out once more. Should it not close within a bound, its socket is closed.
     */
    static Uni<Void> endBackend(SqlConnection conn) {
        LOG.debugf("A pooled connection reached a read-only server (a standby): ending it, trying another");
        Promise<Void> closed = Promise.promise();
        conn.getDelegate().closeHandler(v -> closed.tryComplete());
        // the server's FATAL goodbye is expected: not the client's default print of an unhandled error
        conn.getDelegate().exceptionHandler(e -> LOG.debugf("Ending a read-only connection: %s", e.getMessage()));
        // ROLLBACK first: a fenced BEGIN refused there leaves its transaction aborted, where nothing else would run
        // (outside a transaction it only warns)
        return conn.query("ROLLBACK; SELECT pg_terminate_backend(pg_backend_pid())").execute().replaceWithVoid()
                .onFailure().recoverWithNull()
                .chain(() -> Uni.createFrom().completionStage(closed.future().toCompletionStage()))
                // never given back: a terminate still on its way would end the next user's work
                .ifNoItem().after(END_BACKEND_BOUND).recoverWithItem(() -> {
                    PooledConnections.discard(conn.getDelegate());
                    return null;
                });
    }

    /** A connection reached a read-only server where a fenced transaction was to begin; nothing ran there. */
    static final class ReadOnlyServer extends IllegalStateException {
        ReadOnlyServer(Throwable cause) {
            super("the connection reached a server that is read-only (a standby): " + SessionSetup.describe(cause),
                    cause);
        }
    }

    /** A context of the application's Vert.x, the pool's: the current one, or one for this thread. */
    Context context() {
        return Arc.container().select(Vertx.class).get().getOrCreateContext();
    }
}
