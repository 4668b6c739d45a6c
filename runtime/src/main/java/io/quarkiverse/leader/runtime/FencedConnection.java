package io.quarkiverse.leader.runtime;

import java.util.ArrayList;
import java.util.List;

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
 * statement would run outside the fence). Its queries and prepared statements check when they run, not when they were
 * built, and the statements it prepared are closed when the transaction ends. The transaction is the extension's to
 * begin and end: {@code begin()} fails, {@code close()} does nothing.
 */
final class FencedConnection implements SqlConnection, FencedQueries.Fence {

    private final SqlConnection connection;
    private final List<PreparedStatement> statements = new ArrayList<>(); // prepared by the work; guarded by this
    private volatile boolean over;

    FencedConnection(SqlConnection connection) {
        this.connection = connection;
    }

    /**
     * The work is over: statements from now on are refused, and the ones it prepared are closed. Called before COMMIT
     * or ROLLBACK goes out, so that nothing the work still sends can slip in behind them.
     */
    void end() {
        List<PreparedStatement> prepared;
        synchronized (this) {
            over = true;
            prepared = new ArrayList<>(statements);
            statements.clear();
        }
        prepared.forEach(PreparedStatement::close); // queued ahead of COMMIT or ROLLBACK; a failure there is harmless
    }

    @Override
    public boolean over() {
        return over;
    }

    private SqlConnection open() {
        check();
        return connection;
    }

    /** Guards {@code statement}, or closes it when it was prepared too late to be of use. */
    private PreparedStatement track(PreparedStatement statement) {
        synchronized (this) {
            if (!over) {
                statements.add(statement);
                return new FencedQueries.GuardedStatement(statement, this);
            }
        }
        statement.close();
        throw refused();
    }

    @Override
    public IllegalStateException refused() {
        return new IllegalStateException("The fenced transaction of this connection is over (its work failed, timed"
                + " out or was cancelled): a statement now would run outside it, so it is refused");
    }

    @Override
    public Query<RowSet<Row>> query(String sql) {
        return new FencedQueries.GuardedQuery<>(open().query(sql), this);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
        return new FencedQueries.GuardedPreparedQuery<>(open().preparedQuery(sql), this);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
        return new FencedQueries.GuardedPreparedQuery<>(open().preparedQuery(sql, options), this);
    }

    @Override
    public Future<PreparedStatement> prepare(String sql) {
        return run(() -> connection.prepare(sql)).map(this::track);
    }

    @Override
    public Future<PreparedStatement> prepare(String sql, PrepareOptions options) {
        return run(() -> connection.prepare(sql, options)).map(this::track);
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
