package io.quarkiverse.leader.runtime;

import java.time.Instant;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

import org.jboss.logging.Logger;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnection;

/**
 * How a leader lets go, in the one order every path keeps: the synchronous observers of {@code LeadershipChanged(false)}
 * return (or {@code observer-timeout} runs out), then, on a graceful hand-over, UNLISTEN and unlock, then the session
 * closes. One departure at a time, on the election's context: a hand-over and a step-down both start from leading only.
 */
final class Departure {

    private static final Logger LOG = Logger.getLogger(ElectionSession.class); // the session's lines, as before

    private final ElectionOptions options;
    private final ContextFutures futures;
    private final ElectionListener listener;
    private final Consumer<SessionAttempt> forget; // the session no longer counts the attempt as its own
    private final String releaseSql; // built now: a cold string concatenation on the handover path costs milliseconds

    private SessionAttempt leader;
    private long term;
    private Instant at;
    private volatile boolean releasing; // read by fenced transactions, on other threads

    // linked now, not when they run: the first call of a lambda costs up to a millisecond in a JVM that has not run it
    // yet, and this path runs once, when every millisecond delays the successor
    private final Function<AsyncResult<Void>, Future<Void>> tell = ar -> tellObservers();
    private final Function<AsyncResult<Void>, Future<Void>> release = ar -> release();
    private final Function<AsyncResult<Void>, Future<Void>> close = ar -> closeSession();
    private final Function<Throwable, Future<Void>> observersLate = this::observersLate;

    Departure(ElectionOptions options, ContextFutures futures, ElectionListener listener,
            Consumer<SessionAttempt> forget) {
        this.options = options;
        this.futures = futures;
        this.listener = listener;
        this.forget = forget;
        this.releaseSql = options.releaseSql();
    }

    /** The graceful hand-over: drain, tell, then give the lock up; the heartbeat goes on until the unlock. */
    Future<Void> handOver(SessionAttempt leader, long term, Instant at) {
        begin(leader, term, at);
        return futures.onContext(listener.drain()).transform(tell).transform(release).transform(close);
    }

    /** Leadership is lost: tell, then close, so that a session still alive keeps the lock until the observers return. */
    Future<Void> stepDown(SessionAttempt leader, long term, Instant at) {
        begin(leader, term, at);
        return tellObservers().transform(close);
    }

    /**
     * Whether a leader that hands over still holds the lock on {@code leaving}, its session: while its handlers
     * finish, until the unlock is sent or the session is lost. The lease is not checked: the term row that a fenced
     * transaction holds keeps a successor's term from beginning, whatever this instance believes.
     */
    boolean holdsLock(SessionAttempt leaving) {
        // the session's attempt, not ours: a fenced transaction may ask before the hand-over has begun here
        return leaving != null && leaving.current() && !releasing;
    }

    /** Closes a session, waiting at most a lease: a silent server must not hold up what comes next. */
    Future<Void> close(PgConnection conn) {
        return futures.bounded(conn.close(), options.lease()).otherwiseEmpty();
    }

    private void begin(SessionAttempt leader, long term, Instant at) {
        this.leader = leader;
        this.term = term;
        this.at = at;
        this.releasing = false;
    }

    /** Fires {@code LeadershipChanged(false)} and waits for it, {@code observer-timeout} at most. */
    private Future<Void> tellObservers() {
        return futures.bounded(listener.leadershipChanged(false, term, at), options.observerTimeout())
                .recover(observersLate);
    }

    private Future<Void> observersLate(Throwable failure) {
        if (failure instanceof TimeoutException) { // any other failure of theirs is logged where they ran
            LOG.warnf("Observers of the end of term %d of lock %d did not return within %s; the lock is given up"
                    + " anyway", term, options.lock(), options.observerTimeout());
        }
        return Future.succeededFuture();
    }

    /** One round trip: the lock is free the moment it returns. */
    private Future<Void> release() {
        releasing = true;
        Future<Void> released = leader.conn.query(releaseSql).execute().mapEmpty();
        LOG.infof("Instance %s gives up the leadership of lock %d (term %d)", options.instanceId(), options.lock(),
                term); // while the unlock is on its way
        return futures.bounded(released, options.lease());
    }

    private Future<Void> closeSession() {
        SessionAttempt departed = leader;
        leader = null;
        forget.accept(departed);
        return close(departed.conn);
    }
}
