package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Predicate;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import io.quarkus.arc.Arc;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.reactive.datasource.ReactiveDataSource;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.groups.UniRetry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;

/**
 * The pool of the election's reactive datasource, the bean Quarkus produces for it, looked up on first use: sends,
 * fenced transactions and the reads of the election's state go through it, the election's own session never does.
 * With several URLs the pool opens its connections round-robin over them and may give out one to a standby: a write
 * refused there, or a read that reached one, is tried again on another connection (see {@link #onPrimary}).
 */
final class DatasourcePool {

    private static final Logger LOG = Logger.getLogger(DatasourcePool.class);

    /** SQLSTATE read_only_sql_transaction: a write on a standby, or on a server that is read-only. */
    static final String READ_ONLY = "25006";
    /** A connection to a standby is ended, so more tries mean more standby connections dropped; each waits longer. */
    private static final Duration READ_ONLY_FIRST_DELAY = Duration.ofMillis(10);
    private static final Duration READ_ONLY_MAX_DELAY = Duration.ofMillis(500);
    /** Asked with each read, in the same round trip: a standby's copy may lag, and it shows no advisory locks. */
    private static final String IN_RECOVERY = "SELECT pg_is_in_recovery()";

    /** How long a connection whose backend was ended may take to close. */
    private static final Duration END_BACKEND_BOUND = Duration.ofSeconds(1);

    private final Optional<String> datasource;
    private final Duration retryBound;
    private volatile io.vertx.mutiny.sqlclient.Pool pool;
    private volatile boolean severalHosts;

    private volatile VertxInternal vertx;

    /** {@code retryBound}: how long a statement that reached a read-only server is tried again on others, at most. */
    DatasourcePool(Optional<String> datasource, Duration retryBound) {
        this.datasource = datasource;
        this.retryBound = retryBound;
    }

    io.vertx.mutiny.sqlclient.Pool mutiny() {
        io.vertx.mutiny.sqlclient.Pool current = pool;
        if (current == null) {
            severalHosts = DatasourceConnectOptions.urls(datasource.orElse(DataSourceUtil.DEFAULT_DATASOURCE_NAME),
                    ConfigProvider.getConfig()) > 1;
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
     * Runs a statement that writes, as {@link #write}, with Vert.x futures rather than Mutiny: the durable sends' path,
     * where the layers of {@link #onPrimary} cost as much as the client's own work. A write that the server refuses as
     * read-only changed nothing: its connection's backend is ended, so that the pool drops it, and the write goes the
     * way of {@link #write} again, counted as its first try (with one URL, one more only).
     */
    Future<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> send(String sql, io.vertx.sqlclient.Tuple params) {
        return vertx().getConnection().compose(conn -> conn.preparedQuery(sql).execute(params).transform(ar -> {
            if (ar.succeeded() || !readOnly(ar.cause())) {
                conn.close();
                return ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.failedFuture(ar.cause());
            }
            Uni<RowSet<Row>> again = severalHosts ? write(sql, Tuple.newInstance(params))
                    : onConnection(other -> other.preparedQuery(sql).execute(Tuple.newInstance(params)));
            return Future.fromCompletionStage(endBackend(SqlConnection.newInstance(conn)).chain(() -> again)
                    .map(DatasourcePool::delegate).subscribeAsCompletionStage());
        }));
    }

    @SuppressWarnings("unchecked") // the Mutiny wrapper's delegate is declared raw
    private static io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> delegate(RowSet<Row> rows) {
        return rows.getDelegate();
    }

    /** Runs a statement that reads, on a connection to a primary; see {@link #onPrimary(Function)}. */
    Uni<RowSet<Row>> read(String sql, Tuple params) {
        return onPrimary(conn -> primaryOnly(conn, conn.preparedQuery(sql).execute(params)));
    }

    /**
     * Runs a statement that reads and asks {@code pg_is_in_recovery()} itself, as the first column of its first row
     * (it always has one), on a connection to a primary: one statement where {@link #read} sends two, for the reads
     * that an idle leader repeats. Should it fail, the server is asked apart, as a standby's failure is not used.
     */
    Uni<RowSet<Row>> readChecked(String sql, Tuple params) {
        return onPrimary(conn -> conn.preparedQuery(sql).execute(params)
                // a standby may fail it before it runs (a table it has not replayed yet): asked apart then
                .onFailure(e -> !(e instanceof StandbyReached)).recoverWithUni(failure -> conn.query(IN_RECOVERY)
                        .execute().onFailure().transform(checkFailed -> failure)
                        .chain(rows -> Uni.createFrom().failure(rows.iterator().next().getBoolean(0)
                                ? new StandbyReached()
                                : failure)))
                .chain(rows -> rows.iterator().next().getBoolean(0) ? Uni.createFrom().failure(new StandbyReached())
                        : Uni.createFrom().item(rows)));
    }

    /**
     * Runs {@code work} on a pooled connection and, when the server refuses it as read-only ({@value #READ_ONLY}: the
     * connection reached a standby) or {@link #primaryOnly} finds a standby, ends that connection's backend, so that the
     * pool drops it, and runs it again on another: the pool's next connection goes to the next URL. A refused write
     * changed nothing, so it may run again. See {@link #retriedOnReadOnly} for how often.
     */
    <T> Uni<T> onPrimary(Function<SqlConnection, Uni<T>> work) {
        return retriedOnReadOnly(Uni.createFrom().deferred(() -> onConnection(work)), DatasourcePool::readOnly);
    }

    /**
     * {@code work} on a connection of the pool, which is given its way back (see {@link #released}) in the same
     * callback that receives it: there is no moment at which a caller's cancel could drop it. The pool's own
     * acquisition timeout bounds the wait; a connection that comes after its caller gave up (its own timeout) goes
     * straight back, rather than be lost to the pool for good.
     */
    private <T> Uni<T> onConnection(Function<SqlConnection, Uni<T>> work) {
        return Uni.createFrom().emitter(e -> {
            AtomicBoolean gone = new AtomicBoolean(); // before the connection comes, only a cancel ends the emitter
            e.onTermination(() -> gone.set(true));
            vertx().getConnection().onComplete(ar -> {
                if (ar.failed()) {
                    e.fail(ar.cause());
                    return;
                }
                SqlConnection conn = SqlConnection.newInstance(ar.result());
                if (gone.get()) {
                    conn.close().subscribe().with(v -> {
                    }, f -> LOG.debugf("Could not give a pooled connection back: %s", f));
                    return;
                }
                Uni<T> run;
                try {
                    run = work.apply(conn);
                } catch (RuntimeException failure) {
                    run = Uni.createFrom().failure(failure);
                }
                released(conn, run).subscribe().with(e::complete, e::fail);
            });
        });
    }

    /**
     * {@code attempt}, subscribed again while it fails as read-only ({@code refused}). With several URLs, another may lead to
     * the
     * primary: tried with a growing delay for up to the retry bound. With one, a host behind a name or proxy that
     * moved to the new primary may answer a new connection differently: tried once more only, so that a primary made
     * read-only is not stormed with connections.
     */
    <T> Uni<T> retriedOnReadOnly(Uni<T> attempt, Predicate<Throwable> refused) {
        return Uni.createFrom().deferred(() -> {
            mutiny(); // reads the number of URLs
            UniRetry<T> retry = attempt.onFailure(refused).retry();
            return severalHosts
                    ? retry.withBackOff(READ_ONLY_FIRST_DELAY, READ_ONLY_MAX_DELAY).withJitter(0.5)
                            .expireIn(retryBound.toMillis())
                            // the caller gets the last refusal itself, as with one URL, not Mutiny's "Retries exhausted"
                            .onFailure(e -> !refused.test(e) && e.getCause() != null && refused.test(e.getCause()))
                            .transform(Throwable::getCause)
                    : retry.atMost(1);
        });
    }

    /**
     * {@code query} on {@code conn}, failed with {@link StandbyReached} should {@code conn} reach a server in recovery:
     * what a standby answers may lag behind the primary. The check is sent together with the query, so it costs no
     * round trip of its own.
     */
    static <T> Uni<T> primaryOnly(SqlConnection conn, Uni<T> query) {
        Uni<Boolean> standby = conn.query(IN_RECOVERY).execute().map(rows -> rows.iterator().next().getBoolean(0));
        Uni<Answer<T>> answer = query.onItemOrFailure().transform(Answer::new);
        return Uni.combine().all().unis(standby, answer).asTuple().chain(both -> {
            if (both.getItem1()) {
                return Uni.createFrom().failure(new StandbyReached());
            }
            Answer<T> answered = both.getItem2();
            return answered.failure() != null ? Uni.createFrom().failure(answered.failure())
                    : Uni.createFrom().item(answered.item());
        });
    }

    private record Answer<T>(T item, Throwable failure) {
    }

    /**
     * {@code work} on {@code conn}, which goes back to the pool after it, unless it reached a read-only server. Both run
     * to their end even should the caller give up meanwhile: a statement in flight is answered all the same, and only
     * its answer tells whether the connection may go back.
     */
    private static <T> Uni<T> released(SqlConnection conn, Uni<T> work) {
        return detached(work.onFailure().call(failure -> readOnly(failure) ? endBackend(conn) : conn.close())
                .call(conn::close));
    }

    /** {@code uni}, subscribed now by itself: a caller that cancels (its own timeout) leaves it running to its end. */
    private static <T> Uni<T> detached(Uni<T> uni) {
        Promise<T> done = Promise.promise();
        uni.subscribe().with(done::complete, done::fail);
        return Uni.createFrom().completionStage(() -> done.future().toCompletionStage());
    }

    /** Whether {@code failure} is the server refusing a write, or a read, because it is a standby or read-only. */
    static boolean readOnly(Throwable failure) {
        return failure instanceof StandbyReached || failure instanceof PgException e && READ_ONLY.equals(e.getSqlState());
    }

    /**
     * Ends the server backend of {@code conn}, a connection to a read-only server, so that the pool drops it rather
     * than hand it out again. The connection is not given back: the pool removes a connection that closes, and one
     * given back as it closes would be handed out once more. Should it not close within a bound, its socket is closed.
     */
    static Uni<Void> endBackend(SqlConnection conn) {
        // detached: a caller that cancels must not leave the slot taken
        return detached(ending(conn)).onFailure().recoverWithNull();
    }

    private static Uni<Void> ending(SqlConnection conn) {
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

    /** A read reached a standby, whose answer may lag behind the primary's: it is not used. */
    static final class StandbyReached extends IllegalStateException {
        StandbyReached() {
            super("the connection reached a standby (pg_is_in_recovery() is true), whose answer may lag behind the"
                    + " primary's");
        }
    }

    /** A connection reached a read-only server where a fenced transaction was to begin; nothing ran there. */
    static final class ReadOnlyServer extends IllegalStateException {
        ReadOnlyServer(Throwable cause) {
            super("the connection reached a server that is read-only (a standby): " + SessionSetup.describe(cause),
                    cause);
        }
    }

    /** A new event-loop context of the application's Vert.x, on the next of its event loops: no caller's. */
    Context freshContext() {
        VertxInternal current = vertx;
        if (current == null) {
            current = (VertxInternal) Arc.container().select(Vertx.class).get();
            vertx = current;
        }
        return current.createEventLoopContext();
    }

    /** A context of the application's Vert.x, the pool's: the current one, or one for this thread. */
    Context context() {
        return Arc.container().select(Vertx.class).get().getOrCreateContext();
    }
}
