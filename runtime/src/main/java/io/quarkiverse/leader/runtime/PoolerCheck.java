package io.quarkiverse.leader.runtime;

import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;

/**
 * Tells whether an election's connection is a session of its own on one server backend, as its advisory lock and its
 * LISTEN need, or goes through a connection pooler in transaction or statement mode, which hands its statements from
 * backend to backend.
 */
final class PoolerCheck {

    /** Probe rounds behind a pooler or proxy: each is a chance for a transaction-mode pooler to show itself. */
    static final int ROUNDS = 3;

    private final SessionConnections connections;
    private final PgConnectOptions connectOptions;
    private final long boundMs;
    private final String fix;

    PoolerCheck(SessionConnections connections, PgConnectOptions connectOptions, ElectionOptions options) {
        this.connections = connections;
        this.connectOptions = connectOptions;
        this.boundMs = options.lease().toMillis();
        this.fix = options.poolerFix();
    }

    /**
     * Succeeds when {@code conn}, whose backend said its pid is {@code backendPid}, keeps that backend; fails with
     * {@link PooledSession} when it does not.
     */
    Future<Void> check(PgConnection conn, int backendPid) {
        if (conn.processId() == backendPid) {
            return Future.succeededFuture(); // the server's own key: nothing stands between, nothing more to ask
        }
        // a pooler or proxy hands out keys of its own, whatever its mode: a second connection tells which it is
        return connectProbe().transform(connected -> connected.failed()
                // a pooler at its client limit, say: without the probe a transaction-mode pooler can look like a
                // session, and a lock left on one of its backends would never come back, so the election waits
                ? Future.failedFuture(new PooledSession("its connection goes through a pooler or proxy, and the second"
                        + " connection that tells whether it keeps sessions could not be opened within " + boundMs
                        + " ms (" + SessionSetup.describe(connected.cause()) + "); it tries again later"))
                : rounds(conn, backendPid, connected.result(), ROUNDS)
                        .onComplete(ar -> connected.result().close()));
    }

    /** The probe's connection, within the bound; one that comes later is closed. */
    private Future<PgConnection> connectProbe() {
        Future<PgConnection> connecting = connections.connect(connectOptions);
        return connecting.timeout(boundMs, TimeUnit.MILLISECONDS)
                .onFailure(late -> connecting.onSuccess(PgConnection::close));
    }

    /**
     * The probe holds a transaction open, so that a pooler cannot give its backend to anyone else meanwhile. A session
     * keeps its backend to itself: the probe gets another one (or none, when the pool is full), and the session's next
     * statement runs on its own backend at once. A pooler that has taken the backend back gives it to the probe (it
     * reuses the backend released last, and the session's statement released it just before), or runs the session's
     * next statement elsewhere, or makes it wait. Another client of the pooler that releases a backend at just that
     * moment can hide it once; {@value #ROUNDS} rounds make that vanishingly unlikely, and the lock statement and every
     * heartbeat check the backend again.
     */
    private Future<Void> rounds(PgConnection conn, int backendPid, PgConnection probe, int left) {
        return sessionKeeps(conn, backendPid, "before the probe")
                .compose(v -> probe.query("BEGIN; SELECT pg_backend_pid()").execute()
                        .timeout(boundMs, TimeUnit.MILLISECONDS)
                        .map(SessionSetup::lastPid)
                        // no answer within the bound (a full pool) or a refused transaction (statement mode)
                        .otherwise(-1))
                .compose(probePid -> {
                    if (probePid == backendPid) {
                        return pooled("a second connection was given the backend of the election's idle connection"
                                + " (pid " + backendPid + ")");
                    }
                    Future<Void> kept = sessionKeeps(conn, backendPid, "while a second connection held a transaction");
                    if (probePid == -1 || left == 1) {
                        return kept; // the probe got no backend to compare: the session's answer decides
                    }
                    return kept.compose(k -> probe.query("ROLLBACK").execute().timeout(boundMs, TimeUnit.MILLISECONDS))
                            .compose(r -> rounds(conn, backendPid, probe, left - 1));
                });
    }

    /** Whether the session's next statement runs on its backend, within the bound; {@code when} says in which step. */
    private Future<Void> sessionKeeps(PgConnection conn, int backendPid, String when) {
        return conn.query("SELECT pg_backend_pid()").execute().timeout(boundMs, TimeUnit.MILLISECONDS)
                .transform(ar -> {
                    if (ar.failed()) {
                        return ar.cause() instanceof TimeoutException
                                ? pooled("the election's connection got no backend within " + boundMs + " ms " + when)
                                : Future.failedFuture(ar.cause());
                    }
                    int now = SessionSetup.lastPid(ar.result());
                    return now == backendPid ? Future.succeededFuture()
                            : pooled("the election's connection ran on backend pid " + backendPid + ", then on pid "
                                    + now + " (" + when + ")");
                });
    }

    private Future<Void> pooled(String evidence) {
        return Future.failedFuture(new PooledSession(message(evidence, fix)));
    }

    /** The cause and the fix, for the check and for a heartbeat that sees the backend change. */
    static String message(String evidence, String fix) {
        return "its connection goes through a connection pooler in transaction or statement mode (such as PgBouncer):"
                + " " + evidence + ". Such a pooler runs each transaction on whichever server backend is free, so the"
                + " election's advisory lock would stay behind on a backend that other clients are given and its LISTEN"
                + " would receive no notification. " + fix;
    }

    /**
     * How to connect an election directly, with the settings that name its datasource: {@code election} and the
     * datasource it is set to use.
     */
    static String fix(String election, Optional<String> datasource) {
        String url = datasource.map(ds -> "quarkus.datasource.\"" + ds + "\".").orElse("quarkus.datasource.")
                + "reactive.url";
        return "Connect the election to PostgreSQL directly: set " + ElectionSettings.property(election, "datasource")
                + " to a reactive datasource whose reactive.url names the PostgreSQL server, not the pooler (it uses "
                + url + " now); the application's own datasource may stay behind the pooler, which in transaction mode"
                + " needs quarkus.datasource.reactive.postgresql.use-layer7-proxy=true and"
                + " quarkus.datasource.reactive.cache-prepared-statements=false. Or run the pooler in session mode";
    }

    /** The election's connection is not a session of its own: a misconfiguration, so retries back off further. */
    static final class PooledSession extends IllegalStateException {
        PooledSession(String message) {
            super(message);
        }
    }
}
