package io.quarkiverse.leader.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
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
 * transaction is over (its work has ended: completed, failed, timed out or was cancelled; after COMMIT or ROLLBACK, or
 * back in the pool, a statement would run outside the fence). Its queries and prepared statements check when they
 * run, not when they were built, and the statements, cursors and streams it opened are closed when the transaction
 * ends. The check and the hand-over of a statement are one task on the connection's context, as is the end of the work
 * with its COMMIT or ROLLBACK: from whatever thread the work sends, a statement is queued ahead of them or refused. The
 * transaction is the extension's to begin and end: {@code begin()} fails, {@code close()} does nothing.
 */
final class FencedConnection implements SqlConnection, FencedQueries.Fence {

    private final SqlConnection connection;
    private final Context context; // the connection's: its statements go from there to its socket, in order
    private final List<Supplier<Future<Void>>> opened = new ArrayList<>(); // closed at the end; guarded by this
    private volatile boolean over;

    /** @param context the context {@code connection} was taken from the pool on */
    FencedConnection(SqlConnection connection, Context context) {
        this.connection = connection;
        this.context = context;
    }

    /** The pool's connection behind the fence. */
    SqlConnection connection() {
        return connection;
    }

    /**
     * Ends the work and sends {@code last} (COMMIT or ROLLBACK) in the same task on the connection's context: from then
     * on statements are refused, and what the work opened is closed, ahead of {@code last}.
     */
    <T> Future<T> endWith(Supplier<Future<T>> last) {
        return on(context, () -> {
            end();
            return last.get();
        });
    }

    /** The work is over: statements from now on are refused, and what it opened is closed; on the context. */
    private void end() {
        List<Supplier<Future<Void>>> closing;
        synchronized (this) {
            over = true;
            closing = new ArrayList<>(opened);
            opened.clear();
        }
        closing.forEach(Supplier::get); // queued ahead of COMMIT or ROLLBACK; a failure there is harmless
    }

    @Override
    public boolean over() {
        return over;
    }

    @Override
    public <T> Future<T> run(Supplier<Future<T>> statement) {
        if (over) {
            return Future.failedFuture(refused()); // it never opens again
        }
        return on(context, () -> over ? Future.failedFuture(refused()) : statement.get());
    }

    @Override
    public void closeAtEnd(Supplier<Future<Void>> close) {
        synchronized (this) {
            if (!over) {
                opened.add(close);
                return;
            }
        }
        close.get();
        throw refused();
    }

    /** {@code task} on {@code context}: at once when it is the current one, else in a task of its own there. */
    static <T> Future<T> on(Context context, Supplier<Future<T>> task) {
        // inline only on the context's own event loop: a worker thread that carries the same (duplicated) context
        // would otherwise run beside the loop, with nothing to keep its statement from coming after COMMIT
        if (Vertx.currentContext() == context && Context.isOnEventLoopThread()) {
            return task.get();
        }
        Promise<T> promise = Promise.promise();
        context.runOnContext(v -> {
            try {
                task.get().onComplete(promise);
            } catch (RuntimeException e) {
                promise.tryFail(e);
            }
        });
        return promise.future();
    }

    private SqlConnection open() {
        check();
        return connection;
    }

    /** Guards {@code statement}, or closes it when it was prepared too late to be of use. */
    private PreparedStatement track(PreparedStatement statement) {
        closeAtEnd(statement::close);
        return new FencedQueries.GuardedStatement(statement, this);
    }

    @Override
    public IllegalStateException refused() {
        return new IllegalStateException("The fenced transaction of this connection is over (its work has ended:"
                + " completed, failed, timed out or was cancelled): a statement now would run outside it, so it is"
                + " refused");
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
