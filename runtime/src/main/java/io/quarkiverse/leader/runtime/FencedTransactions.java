package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.FencedException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;

/**
 * Fenced transactions: work that commits only in this instance's current term, which PostgreSQL enforces by holding
 * the term row for as long as the transaction runs.
 */
final class FencedTransactions {

    private static final Logger LOG = Logger.getLogger(FencedTransactions.class);

    /** SQLSTATE of a statement sent in a transaction that an earlier failed statement aborted. */
    private static final String IN_FAILED_TRANSACTION = "25P02";

    private final String instanceId;
    private final long lock;
    private final TermTable terms;
    private final Duration lease;
    private final DatasourcePool pool;
    private final Supplier<ElectionSession> election;

    FencedTransactions(String instanceId, long lock, TermTable terms, Duration lease, DatasourcePool pool,
            Supplier<ElectionSession> election) {
        this.instanceId = instanceId;
        this.lock = lock;
        this.terms = terms;
        this.lease = lease;
        this.pool = pool;
        this.election = election;
    }

    /** Runs {@code work} in a fenced transaction, which commits if its term is still the current one. */
    <T> Uni<T> run(Function<SqlConnection, Uni<T>> work) {
        return run(work, null, e -> e);
    }

    /**
     * As {@link #run(Function)}, with {@code lastStatement} (SQL without parameters, or {@code null}) sent in COMMIT's
     * round trip, so that it costs none of its own: should it fail, nothing commits, and the transaction fails with
     * what {@code lastStatementFailed} makes of the server's error. The transaction takes two round trips besides its
     * work's.
     */
    <T> Uni<T> run(Function<SqlConnection, Uni<T>> work, String lastStatement,
            Function<PgException, Throwable> lastStatementFailed) {
        // decided on each subscription: a retry, or a Uni subscribed later, sees leadership as it is then; BEGIN on a
        // standby ran nothing, so it is tried on another connection, as the pool's writes are
        return pool.retriedOnReadOnly(Uni.createFrom().deferred(() -> {
            ElectionSession current = election.get();
            if (current == null || !current.isLeader()) {
                return Uni.createFrom().failure(new FencedException("Instance " + instanceId + " does not lead lock "
                        + lock + ": fenced transactions run on the leader only"));
            }
            Attempt<T> attempt = new Attempt<>(current, current.term());
            Lending lending = new Lending();
            return connection(lending)
                    .chain(fenced -> lending.take(fenced) ? attempt.within(fenced, work, lastStatement,
                            lastStatementFailed)
                            .onTermination().invoke((item, failure, cancelled) -> {
                                if (!(failure instanceof DatasourcePool.ReadOnlyServer)) {
                                    release(fenced, failure != null || cancelled); // an ended one is not given back
                                }
                            }) : Uni.createFrom().failure(new CancellationException("the fenced call was cancelled")))
                    .onCancellation().invoke(() -> lending.cancel().ifPresent(fenced -> release(fenced, true)))
                    .onFailure(e -> !(e instanceof FencedException || e instanceof DatasourcePool.ReadOnlyServer))
                    .recoverWithUni(attempt::afterFailure);
        }), DatasourcePool.ReadOnlyServer.class::isInstance);
    }

    /**
     * A connection of the pool, taken on a context the fence then knows as the connection's. The pool's own
     * acquisition timeout bounds the wait (one of ours would drop a connection that came later); who releases it is
     * settled by {@code lending}, so that a cancel at any moment leaves it neither lost nor released twice.
     */
    private Uni<FencedConnection> connection(Lending lending) {
        return Uni.createFrom().deferred(() -> {
            Context context = pool.context();
            Future<io.vertx.sqlclient.SqlConnection> pending = FencedConnection.on(context,
                    () -> pool.vertx().getConnection());
            return Uni.createFrom().emitter(e -> pending.onComplete(ar -> {
                if (ar.failed()) {
                    e.fail(ar.cause());
                    return;
                }
                FencedConnection fenced = new FencedConnection(ar.result(), context);
                if (lending.lend(fenced)) {
                    e.complete(fenced);
                } else {
                    ar.result().close(); // came after its caller gave up: straight back
                }
            }));
        });
    }

    /**
     * Who releases a fenced transaction's connection: the transaction that takes it, or the cancel that comes before
     * it does. Exactly one of them, whichever comes first.
     */
    private static final class Lending {

        private static final Object TAKEN = new Object();
        private static final Object CANCELLED = new Object();
        private final AtomicReference<Object> state = new AtomicReference<>();

        /** The connection has come: false when the caller gave up before. */
        boolean lend(FencedConnection fenced) {
            return state.compareAndSet(null, fenced);
        }

        /** The transaction takes the connection it was lent: false when a cancel got it first. */
        boolean take(FencedConnection fenced) {
            return state.compareAndSet(fenced, TAKEN);
        }

        /** The caller gave up: the connection lent and not yet taken, to release. */
        Optional<FencedConnection> cancel() {
            Object before = state.getAndUpdate(s -> s == TAKEN ? TAKEN : CANCELLED);
            return before instanceof FencedConnection fenced ? Optional.of(fenced) : Optional.empty();
        }
    }

    /**
     * Gives the connection back to the pool. After anything but a commit (a failure, an answer still awaited, a
     * subscriber that cancelled), ROLLBACK goes first, in the task that ends the work: queued behind whatever is still
     * in flight on the connection and ahead of its next user's statements, it ends the transaction whatever state it is
     * in. A ROLLBACK that fails or gets no answer within the lease leaves the transaction in an unknown state: that
     * connection is closed instead.
     */
    private void release(FencedConnection fenced, boolean rollBack) {
        SqlConnection conn = SqlConnection.newInstance(fenced.connection());
        if (!rollBack) {
            close(conn); // the work ended with COMMIT's task
            return;
        }
        future(() -> fenced.endWith(() -> fenced.connection().query("ROLLBACK").execute()))
                .ifNoItem().after(lease).fail()
                .subscribe().with(rows -> close(conn), failure -> {
                    LOG.debugf("ROLLBACK of a fenced transaction of lock %d failed (%s): its connection is closed",
                            lock, failure);
                    PooledConnections.discard(fenced.connection());
                });
    }

    /** The outcome of the Vert.x future {@code action} makes, on subscription. */
    private static <R> Uni<R> future(Supplier<Future<R>> action) {
        return Uni.createFrom().emitter(e -> action.get().onComplete(ar -> {
            if (ar.succeeded()) {
                e.complete(ar.result());
            } else {
                e.fail(ar.cause());
            }
        }));
    }

    private static void close(SqlConnection conn) {
        conn.close().subscribe().with(v -> {
        }, e -> LOG.debugf("Could not give a connection of a fenced transaction back to the pool: %s", e));
    }

    /** One transaction: BEGIN with the fence, the work, then the checks and COMMIT. */
    private final class Attempt<T> {

        private final ElectionSession current;
        private final long term;
        private volatile long transactionId;
        private volatile long timeline;
        private volatile boolean committing;
        private volatile boolean answered; // the server answered COMMIT's round trip with an error: nothing committed
        private volatile T result;

        Attempt(ElectionSession current, long term) {
            this.current = current;
            this.term = term;
        }

        /** Runs {@code work} on {@code fenced}, the guarded view of its connection. */
        Uni<T> within(FencedConnection fenced, Function<SqlConnection, Uni<T>> work, String lastStatement,
                Function<PgException, Throwable> lastStatementFailed) {
            SqlConnection conn = SqlConnection.newInstance(fenced.connection());
            return bounded(conn.query(terms.beginFencedSql(lock)).execute(), "BEGIN")
                    .onFailure(DatasourcePool::readOnly).call(failure -> DatasourcePool.endBackend(conn))
                    .onFailure(DatasourcePool::readOnly).transform(DatasourcePool.ReadOnlyServer::new)
                    .chain(rows -> {
                        Long held = null;
                        for (Row row : last(rows)) {
                            held = row.getLong(0);
                            transactionId = row.getLong(1);
                            timeline = row.getLong(2);
                        }
                        if (held == null || held != term) {
                            return Uni.createFrom().<T> failure(new FencedException("Term " + term + " of lock " + lock
                                    + " is over (the term table " + terms.qualifiedName() + " has " + held + ")"));
                        }
                        return work.apply(SqlConnection.newInstance(fenced));
                    })
                    // the last word is ours before COMMIT: a lease that ran out meanwhile rolls the transaction back;
                    // a leader that leaves commits until it unlocks, so its draining handlers' work is not lost
                    .call(item -> {
                        String commit = terms.stillOursSql(transactionId) + "; "
                                + (lastStatement != null ? lastStatement + "; " : "") + "COMMIT";
                        // the work ends in COMMIT's task: a statement it sends meanwhile is queued ahead or refused
                        return bounded(future(() -> fenced.endWith(() -> {
                            if (!current.mayCommit(term)) {
                                return Future.failedFuture(new FencedException("Instance " + instanceId
                                        + " stopped leading lock " + lock + " (term " + term
                                        + ") before its fenced transaction could commit"));
                            }
                            result = item;
                            committing = true;
                            return fenced.connection().query(commit).execute();
                        })), "COMMIT")
                                .onFailure(PgException.class).transform(e -> refused((PgException) e,
                                        lastStatementFailed));
                    });
        }

        /**
         * The server's error in COMMIT's round trip. One it sends as it ends the session (FATAL, a shutdown, a lost
         * connection, an internal error) may come after a local commit, so its outcome is looked up; any other means
         * that COMMIT did not run, or failed.
         */
        private Throwable refused(PgException error, Function<PgException, Throwable> lastStatementFailed) {
            String state = error.getSqlState() == null ? "" : error.getSqlState();
            if ("FATAL".equals(error.getSeverity()) || "PANIC".equals(error.getSeverity())
                    || state.startsWith("08") || state.startsWith("57") || state.startsWith("XX")) {
                return error; // in doubt
            }
            answered = true;
            if (TermTable.notOurs(error)) {
                return new IllegalStateException("The work of a fenced transaction ended the"
                        + " transaction itself (conn.begin(), or a COMMIT or ROLLBACK of its own): what it committed is"
                        + " its own, outside the fence's last check; do not begin, commit or roll back in fenced work",
                        error);
            }
            return IN_FAILED_TRANSACTION.equals(state)
                    ? new IllegalStateException("A statement of the fenced transaction failed and aborted it, but its"
                            + " work completed all the same: nothing was committed", error)
                    : lastStatementFailed.apply(error);
        }

        /**
         * What a fenced transaction that failed comes to. A failure before COMMIT was sent, or one the server answered
         * COMMIT's round trip with, did not commit. A COMMIT without an answer (the connection lost on the way) is
         * looked up by the transaction's id: if it committed, the work's result stands. One that did not commit in a
         * term that is over by now is a {@link FencedException}; when PostgreSQL cannot tell, the failure is passed on
         * as it is.
         */
        Uni<T> afterFailure(Throwable failure) {
            boolean inDoubt = committing && !answered;
            Uni<String> status = inDoubt ? transactionStatus(transactionId, timeline) : Uni.createFrom().item("aborted");
            return status.invoke(s -> LOG.debugf("A fenced transaction of lock %d in term %d failed %s (%s): %s", lock,
                    term, inDoubt ? "at COMMIT" : "before COMMIT", failure, s)).onItem().transformToUni(s -> switch (s) {
                        case "committed" -> Uni.createFrom().item(result);
                        case "aborted" -> termEnded(current, term).onItem().transformToUni(ended -> Uni.createFrom().failure(
                                ended ? new FencedException("Term " + term + " of lock " + lock + " ended while a fenced"
                                        + " transaction ran, which did not commit: " + failure.getMessage(), failure)
                                        : failure));
                        default -> Uni.createFrom().failure(failure);
                    });
        }
    }

    /** The last of a simple query's results: BEGIN's and SET's come first. */
    private static RowSet<Row> last(RowSet<Row> rows) {
        RowSet<Row> last = rows;
        while (last.next() != null) {
            last = last.next();
        }
        return last;
    }

    /** One of the transaction's own statements, failed once it has taken a lease: it cannot commit by then anyway. */
    private <R> Uni<R> bounded(Uni<R> statement, String what) {
        return statement.ifNoItem().after(lease).failWith(() -> new TimeoutException(what + " of a fenced transaction"
                + " of lock " + lock + " took longer than the lease (" + lease + ")"));
    }

    /**
     * A lookup after a failed fenced transaction. It may first get a pooled connection that died with the transaction
     * (the pool learns of the close just after the failure), so it tries again briefly; a server out of reach must not
     * hold the caller up longer than a lease.
     */
    private <R> Uni<R> lookup(Uni<R> query) {
        return query.onFailure().retry().withBackOff(Duration.ofMillis(20)).atMost(3)
                .ifNoItem().after(lease).fail();
    }

    /**
     * committed, aborted, in progress; or unknown when the server cannot be asked, or when it is on another timeline
     * than the one the transaction began on (a standby promoted meanwhile): there the same id may have been given to
     * another transaction, the old primary's last ones never having reached it.
     */
    private Uni<String> transactionStatus(long transactionId, long timeline) {
        return lookup(pool.read(terms.transactionStatusSql(), Tuple.of(transactionId))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return row.getLong(1) == timeline ? row.getString(0) : null;
                })
                .onItem().ifNull().continueWith("unknown"))
                .onFailure().recoverWithItem("unknown");
    }

    /** Whether this instance's term is over, as it knows or, failing that, as the term table says. */
    private Uni<Boolean> termEnded(ElectionSession current, long term) {
        if (!current.mayCommit(term)) {
            return Uni.createFrom().item(true);
        }
        // its lease may not have run out yet here, while PostgreSQL has moved on (a paused process that resumes)
        return lookup(pool.read(terms.currentTermSql(), Tuple.of(lock))
                .map(rows -> {
                    for (Row row : rows) {
                        return row.getLong("term") != term;
                    }
                    return true;
                }))
                .onFailure().invoke(e -> LOG.debugf("Could not read the term of lock %d: %s", lock, e))
                .onFailure().recoverWithItem(() -> !current.mayCommit(term));
    }
}
