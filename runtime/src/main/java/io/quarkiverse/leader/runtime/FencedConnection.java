package io.quarkiverse.leader.runtime;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.spi.DatabaseMetadata;

/**
 * The connection a fenced transaction's work gets: its statements run in the transaction, and none once the
 * transaction is over (its work timed out or was cancelled, and the connection went back to the pool, where the
 * statement would run outside the fence). The transaction is the extension's to begin and end: {@code begin()} fails,
 * {@code close()} does nothing.
 */
final class FencedConnection implements SqlConnection {

    private final SqlConnection connection;
    private volatile boolean over;

    FencedConnection(SqlConnection connection) {
        this.connection = connection;
    }

    /** The transaction has ended: statements from now on are refused. */
    void end() {
        over = true;
    }

    private SqlConnection open() {
        if (over) {
            throw refused();
        }
        return connection;
    }

    private static IllegalStateException refused() {
        return new IllegalStateException("The fenced transaction of this connection is over (its work failed, timed"
                + " out or was cancelled): a statement now would run outside it, so it is refused");
    }

    @Override
    public Query<RowSet<Row>> query(String sql) {
        return open().query(sql);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
        return open().preparedQuery(sql);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
        return open().preparedQuery(sql, options);
    }

    @Override
    public Future<PreparedStatement> prepare(String sql) {
        return over ? Future.failedFuture(refused()) : connection.prepare(sql);
    }

    @Override
    public Future<PreparedStatement> prepare(String sql, PrepareOptions options) {
        return over ? Future.failedFuture(refused()) : connection.prepare(sql, options);
    }

    @Override
    public SqlConnection prepare(String sql, Handler<AsyncResult<PreparedStatement>> handler) {
        prepare(sql).onComplete(handler);
        return this;
    }

    @Override
    public SqlConnection prepare(String sql, PrepareOptions options, Handler<AsyncResult<PreparedStatement>> handler) {
        prepare(sql, options).onComplete(handler);
        return this;
    }

    @Override
    public Future<Transaction> begin() {
        return Future.failedFuture(new IllegalStateException("A fenced transaction's work runs in a transaction that the"
                + " extension begins and commits: it must not begin one of its own"));
    }

    @Override
    public void begin(Handler<AsyncResult<Transaction>> handler) {
        begin().onComplete(handler);
    }

    @Override
    public Transaction transaction() {
        return null;
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture(); // the fence gives the connection back once the transaction has ended
    }

    @Override
    public void close(Handler<AsyncResult<Void>> handler) {
        close().onComplete(handler);
    }

    @Override
    public SqlConnection exceptionHandler(Handler<Throwable> handler) {
        connection.exceptionHandler(handler);
        return this;
    }

    @Override
    public SqlConnection closeHandler(Handler<Void> handler) {
        connection.closeHandler(handler);
        return this;
    }

    @Override
    public boolean isSSL() {
        return connection.isSSL();
    }

    @Override
    public DatabaseMetadata databaseMetadata() {
        return connection.databaseMetadata();
    }
}
