package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collector;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.RowStream;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Tuple;

/**
 * The queries, prepared statements, cursors and row streams of a {@link FencedConnection}: each checks the fence when
 * it runs, not when it was built, so that one kept by the work and run after its transaction ended is refused too. The
 * cursors and streams opened through them are closed when the transaction ends.
 */
final class FencedQueries {

    /** Whether the fenced transaction is over, and the error that refuses a statement then. */
    interface Fence {

        boolean over();

        IllegalStateException refused();

        /**
         * {@code statement}, unless the transaction is over: checked and sent in one task on the connection's
         * context, so that it is either queued ahead of COMMIT or ROLLBACK or refused.
         */
        <T> Future<T> run(Supplier<Future<T>> statement);

        /** Has {@code close} run when the transaction ends; refused when it is over already. */
        void closeAtEnd(Supplier<Future<Void>> close);

        /** Throws once the transaction is over: for the calls that answer without a Future. */
        default void check() {
            if (over()) {
                throw refused();
            }
        }
    }

    private FencedQueries() {
    }

    static class GuardedQuery<T> implements Query<T> {

        private final Query<T> query;
        final Fence fence;

        GuardedQuery(Query<T> query, Fence fence) {
            this.query = query;
            this.fence = fence;
        }

        @Override
        public void execute(Handler<AsyncResult<T>> handler) {
            execute().onComplete(handler);
        }

        @Override
        public Future<T> execute() {
            return fence.run(query::execute);
        }

        @Override
        public <R> Query<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
            return new GuardedQuery<>(query.collecting(collector), fence);
        }

        @Override
        public <U> Query<RowSet<U>> mapping(Function<Row, U> mapper) {
            return new GuardedQuery<>(query.mapping(mapper), fence);
        }
    }

    static final class GuardedPreparedQuery<T> extends GuardedQuery<T> implements PreparedQuery<T> {

        private final PreparedQuery<T> query;

        GuardedPreparedQuery(PreparedQuery<T> query, Fence fence) {
            super(query, fence);
            this.query = query;
        }

        @Override
        public void execute(Tuple tuple, Handler<AsyncResult<T>> handler) {
            execute(tuple).onComplete(handler);
        }

        @Override
        public Future<T> execute(Tuple tuple) {
            return fence.run(() -> query.execute(tuple));
        }

        @Override
        public void executeBatch(List<Tuple> batch, Handler<AsyncResult<T>> handler) {
            executeBatch(batch).onComplete(handler);
        }

        @Override
        public Future<T> executeBatch(List<Tuple> batch) {
            return fence.run(() -> query.executeBatch(batch));
        }

        @Override
        public <R> PreparedQuery<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
            return new GuardedPreparedQuery<>(query.collecting(collector), fence);
        }

        @Override
        public <U> PreparedQuery<RowSet<U>> mapping(Function<Row, U> mapper) {
            return new GuardedPreparedQuery<>(query.mapping(mapper), fence);
        }
    }

    /** A statement prepared in the transaction; the fence closes it when the transaction ends. */
    static final class GuardedStatement implements PreparedStatement {

        private final PreparedStatement statement;
        private final Fence fence;

        GuardedStatement(PreparedStatement statement, Fence fence) {
            this.statement = statement;
            this.fence = fence;
        }

        @Override
        public PreparedQuery<RowSet<Row>> query() {
            return new GuardedPreparedQuery<>(statement.query(), fence);
        }

        @Override
        public Cursor cursor(Tuple args) {
            Cursor cursor = statement.cursor(args); // sends nothing until it is read
            fence.closeAtEnd(cursor::close);
            return new GuardedCursor(cursor, fence);
        }

        @Override
        public RowStream<Row> createStream(int fetch, Tuple args) {
            RowStream<Row> stream = statement.createStream(fetch, args); // reads once it has a handler
            fence.closeAtEnd(stream::close);
            return new GuardedStream(stream, fence);
        }

        @Override
        public Future<Void> close() {
            return statement.close();
        }

        @Override
        public void close(Handler<AsyncResult<Void>> handler) {
            close().onComplete(handler);
        }
    }

    static final class GuardedCursor implements Cursor {

        private final Cursor cursor;
        private final Fence fence;

        GuardedCursor(Cursor cursor, Fence fence) {
            this.cursor = cursor;
            this.fence = fence;
        }

        @Override
        public void read(int count, Handler<AsyncResult<RowSet<Row>>> handler) {
            read(count).onComplete(handler);
        }

        @Override
        public Future<RowSet<Row>> read(int count) {
            return fence.run(() -> cursor.read(count));
        }

        @Override
        public boolean hasMore() {
            return cursor.hasMore();
        }

        @Override
        public Future<Void> close() {
            return cursor.close();
        }

        @Override
        public void close(Handler<AsyncResult<Void>> handler) {
            close().onComplete(handler);
        }

        @Override
        public boolean isClosed() {
            return cursor.isClosed();
        }
    }

    /**
     * Rows are read when a handler is set, or more are fetched or resumed: each checks the fence, on the connection's
     * context; a refusal there goes to the exception handler. Its own further reads stop when the fence closes it.
     */
    static final class GuardedStream implements RowStream<Row> {

        private final RowStream<Row> stream;
        private final Fence fence;
        private volatile Handler<Throwable> exceptionHandler;

        GuardedStream(RowStream<Row> stream, Fence fence) {
            this.stream = stream;
            this.fence = fence;
        }

        @Override
        public RowStream<Row> exceptionHandler(Handler<Throwable> handler) {
            exceptionHandler = handler;
            stream.exceptionHandler(handler);
            return this;
        }

        @Override
        public RowStream<Row> handler(Handler<Row> handler) {
            if (handler == null) {
                stream.handler(null); // stops reading, which is always allowed
                return this;
            }
            return reading(() -> stream.handler(handler));
        }

        @Override
        public RowStream<Row> pause() {
            stream.pause();
            return this;
        }

        @Override
        public RowStream<Row> resume() {
            return reading(stream::resume);
        }

        @Override
        public RowStream<Row> endHandler(Handler<Void> handler) {
            stream.endHandler(handler);
            return this;
        }

        @Override
        public RowStream<Row> fetch(long count) {
            return reading(() -> stream.fetch(count));
        }

        /** {@code read}, which may send a statement, under the fence: refused at once, or later to the handler. */
        private RowStream<Row> reading(Runnable read) {
            fence.check();
            fence.run(() -> {
                read.run();
                return Future.succeededFuture();
            }).onFailure(failure -> {
                Handler<Throwable> handler = exceptionHandler;
                if (handler != null) {
                    handler.handle(failure);
                }
            });
            return this;
        }

        @Override
        public Future<Void> close() {
            return stream.close();
        }

        @Override
        public void close(Handler<AsyncResult<Void>> handler) {
            close().onComplete(handler);
        }
    }
}
