package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

/**
 * Opens an election's session and readies it: its settings, a check that it is a session of its own (no pooler in
 * transaction or statement mode) on a primary, and the term table.
 */
final class SessionSetup {

    private static final Logger LOG = Logger.getLogger(SessionSetup.class);

    /** CREATE TABLE IF NOT EXISTS racing another session's: one of these, depending on where they collide. */
    private static final String DUPLICATE_TABLE = "42P07";
    private static final String UNIQUE_VIOLATION = "23505";

    private final Context context;
    private final ElectionOptions options;
    private final SessionConnections connections;

    SessionSetup(Context context, ElectionOptions options, SessionConnections connections) {
        this.context = context;
        this.options = options;
        this.connections = connections;
    }

    /**
     * The election's hosts with the user and password the datasource has now: its credentials provider is asked once
     * for an attempt, within a lease of its own, so that a slow provider leaves each host its whole bound.
     */
    Future<List<PgConnectOptions>> hosts() {
        return options.datasource().withCredentials(context, options.hosts(), options.lease());
    }

    /**
     * A session to {@code host} (one of {@link #hosts()}) ready to wait for the lock; closed again if anything on the
     * way fails. Called on the election's context, which the session then belongs to.
     */
    Future<BackendSession> open(PgConnectOptions host) {
        // a server that goes silent mid-statement closes the socket instead of hanging the election
        PgConnectOptions connect = new PgConnectOptions(host)
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, options.sessionIdleTimeout().toMillis()))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        return connections.connect(connect).compose(conn ->
        // a pooler's probe connects as the session did, credentials included
        configure(conn, new PoolerCheck(connections, connect, options))
                .transform(ar -> ar.succeeded() ? Future.succeededFuture(new BackendSession(conn, ar.result()))
                        : conn.close().transform(closed -> Future.failedFuture(ar.cause()))));
    }

    /** Readies {@code conn}; its result is the backend pid the session was checked on. */
    private Future<Integer> configure(PgConnection conn, PoolerCheck poolerCheck) {
        // notices (such as "relation already exists, skipping" when instances create the term table at once) are
        // expected here: debug, not the client's default warning
        conn.noticeHandler(notice -> LOG.debugf("Election session notice: %s", notice.getMessage()));
        TermTable terms = options.terms();
        // the backend's pid, in the same round trip, before any prepared statement: a pooler in transaction mode
        // would run a statement's parse and its execution on different backends
        return conn.query(options.sessionSettingsSql(conn.databaseMetadata().majorVersion())
                + "; SELECT pg_backend_pid()").execute()
                .map(SessionSetup::lastPid)
                .compose(pid -> poolerCheck.check(conn, pid)
                        .compose(r -> conn.preparedQuery(terms.sessionCheckSql())
                                .execute(Tuple.of(terms.qualifiedName())))
                        .compose(rows -> {
                            Row row = rows.iterator().next();
                            if (row.getBoolean(0) || row.getBoolean(1)) {
                                return Future.failedFuture(PrimaryHosts.NotPrimary.of(row.getBoolean(0)));
                            }
                            return row.getBoolean(2) ? Future.succeededFuture() : createTermTable(conn);
                        })
                        .map(pid));
    }

    /** The pid in the last result of a simple query of several statements. */
    static int lastPid(RowSet<Row> results) {
        RowSet<Row> last = results;
        while (last.next() != null) {
            last = last.next();
        }
        return last.iterator().next().getInteger(0);
    }

    private Future<Void> createTermTable(PgConnection conn) {
        TermTable terms = options.terms();
        if (!terms.createTable()) {
            return Future.failedFuture(new MissingTermTable("the term table " + terms.qualifiedName()
                    + " does not exist and " + terms.createTableProperty() + " is false; create it with: "
                    + terms.ddl()));
        }
        LOG.infof("Creating the term table %s", terms.qualifiedName());
        return conn.query(terms.ddl()).execute().<Void> mapEmpty().recover(failure ->
        // another instance created it at the same moment
        failure instanceof PgException e
                && (DUPLICATE_TABLE.equals(e.getSqlState()) || UNIQUE_VIOLATION.equals(e.getSqlState()))
                        ? Future.succeededFuture()
                        : Future.failedFuture(failure));
    }

    /** The term table is missing and the election may not create it: an operator has to, so retries back off further. */
    static final class MissingTermTable extends IllegalStateException {
        MissingTermTable(String message) {
            super(message);
        }
    }

    static String describe(Throwable t) {
        if (t instanceof PgException e) {
            return e.getErrorMessage() + " [SQLSTATE " + e.getSqlState() + "]";
        }
        String message = t.getMessage() != null ? t.getMessage() : t.getClass().getName();
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        // a wrapper such as "SSL handshake failed" says where, its cause says why
        return root == t || root.getMessage() == null || message.contains(root.getMessage()) ? message
                : message + ": " + root.getMessage();
    }
}
