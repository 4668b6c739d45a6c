package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.SessionSetup.describe;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Tuple;

/**
 * One election as a state machine ({@link ElectionState}): a dedicated PostgreSQL session waits for (or polls) an
 * advisory lock, LISTENs while it holds it, and confirms itself every heartbeat. Every transition happens on the
 * election's own context, in {@link #moveTo}. An election runs once: after {@link #stop()} it cannot be started again.
 */
public final class ElectionSession {

    private static final Logger LOG = Logger.getLogger(ElectionSession.class);

    /** lock_timeout ran out while waiting in pg_advisory_lock. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    private final Vertx vertx;
    private final Context context;
    private final ElectionOptions options;
    private final ElectionListener listener;
    private final SessionSetup setup;
    private final Lease lease;
    // built now, not on the handover path, where a cold string concatenation costs milliseconds
    private final String leadSql;
    private final String releaseSql;

    private volatile ElectionState state = ElectionState.IDLE;
    private volatile boolean stopping; // set by stop() on any thread: leadership ends the moment it is called
    private volatile boolean connected;
    private volatile long term;
    private volatile Duration lastAcquireTime;

    // confined to the context
    private SessionAttempt attempt;
    private Cancellable connecting;
    private Future<PgConnection> opening;
    private Future<Void> steppingDown;
    private Future<Void> left;
    private int failedConnects;

    public ElectionSession(Vertx vertx, ElectionOptions options, ElectionListener listener) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.options = options;
        this.listener = listener;
        this.setup = new SessionSetup(vertx, options);
        this.lease = new Lease(options.lease());
        this.leadSql = options.leadSql();
        this.releaseSql = options.releaseSql();
    }

    /** Whether this instance holds the lock and confirmed its session less than a lease ago. */
    public boolean isLeader() {
        return !stopping && state == ElectionState.LEADING && lease.valid();
    }

    public ElectionState state() {
        return state;
    }

    /** How long the last acquisition took, from opening the session to holding the lock and listening. */
    public Duration lastAcquireTime() {
        return lastAcquireTime;
    }

    /** The term of this instance's current leadership, or of its last one; 0 before it first leads. */
    public long term() {
        return term;
    }

    /** Whether the election has its session to PostgreSQL now (leading or waiting). */
    public boolean connected() {
        return connected;
    }

    public Context context() {
        return context;
    }

    public Future<Void> start() {
        return onContext(() -> {
            if (state == ElectionState.IDLE && !stopping) {
                connect();
            }
            return Future.succeededFuture();
        });
    }

    /**
     * Leaves the election. A leader stops dispatching at once, lets running handlers finish while its session still
     * confirms itself, tells the observers, and only then UNLISTENs, unlocks and closes the session. Every step is
     * bounded, so the returned future always completes.
     */
    public Future<Void> stop() {
        stopping = true;
        Instant stoppedAt = Instant.now();
        return onContext(() -> leave(stoppedAt));
    }

    private Future<Void> leave(Instant stoppedAt) {
        if (left == null) {
            left = switch (state) {
                case IDLE, STOPPED -> stopped(Future.succeededFuture());
                case CONNECTING -> {
                    moveTo(ElectionState.LEAVING);
                    connecting.cancel();
                    // a session that is opening right now is closed as soon as it is there
                    Future<PgConnection> open = opening == null ? Future.failedFuture("not opening") : opening;
                    yield stopped(bounded(open, options.lease()).transform(ar -> ar.succeeded() ? close(ar.result())
                            : Future.succeededFuture()));
                }
                case WAITING, BEGINNING_TERM -> {
                    SessionAttempt follower = drop(ElectionState.LEAVING);
                    // it may be blocked in pg_advisory_lock: cancel that so the server reads our Terminate at once
                    yield stopped(bounded(follower.conn.cancelRequest(), options.lease())
                            .transform(ar -> close(follower.conn)));
                }
                case LEADING -> stopped(handOver(stoppedAt));
                case STEPPING_DOWN -> steppingDown; // it sees stopping and does not reconnect
                case LEAVING -> throw new IllegalStateException("leaving twice");
            };
        }
        return left;
    }

    /** The graceful hand-over: drain, tell, then give the lock up; the heartbeat goes on until the unlock. */
    private Future<Void> handOver(Instant stoppedAt) {
        SessionAttempt leader = attempt;
        long ended = term;
        moveTo(ElectionState.LEAVING);
        lease.end();
        return onContext(listener.drain())
                .transform(ar -> tellObservers(ended, stoppedAt))
                .transform(ar -> {
                    // one round trip: the lock is free the moment this returns
                    Future<Void> released = leader.conn.query(releaseSql).execute().mapEmpty();
                    LOG.infof("Instance %s gives up the leadership of lock %d (term %d)", options.instanceId(),
                            options.lock(), ended); // while the unlock is on its way
                    return bounded(released, options.lease());
                })
                .transform(ar -> {
                    end(leader);
                    return close(leader.conn);
                });
    }

    private void connect() {
        moveTo(ElectionState.CONNECTING);
        connecting = Uni.createFrom().<PgConnection> emitter(em -> context.runOnContext(v -> {
            if (state != ElectionState.CONNECTING) {
                em.fail(new IllegalStateException("the election is leaving"));
                return;
            }
            opening = setup.open().onComplete(ar -> {
                if (ar.succeeded()) {
                    em.complete(ar.result());
                } else {
                    em.fail(ar.cause());
                }
            });
        }))
                .onFailure().invoke(this::connectFailed)
                .onFailure().retry().withBackOff(options.reconnectInitialDelay(), options.reconnectMaxDelay())
                .withJitter(0.5).indefinitely()
                .subscribe().with(conn -> context.runOnContext(v -> sessionOpened(conn)));
    }

    private void connectFailed(Throwable failure) {
        if (failedConnects++ == 0) {
            LOG.warnf("Instance %s cannot open its election session (%s); retrying with backoff up to %s",
                    options.instanceId(), describe(failure), options.reconnectMaxDelay());
        } else {
            LOG.debugf("Election session attempt %d failed: %s", failedConnects, describe(failure));
        }
    }

    private void sessionOpened(PgConnection conn) {
        connecting = null;
        opening = null;
        if (state != ElectionState.CONNECTING) { // left while it opened: leave() closes it
            return;
        }
        if (failedConnects > 0) {
            LOG.infof("Instance %s reopened its election session after %d failed attempts", options.instanceId(),
                    failedConnects);
            failedConnects = 0;
        }
        SessionAttempt opened = new SessionAttempt(vertx, conn);
        attempt = opened;
        connected = true;
        conn.closeHandler(v -> sessionLost(opened, "the connection was closed"));
        conn.exceptionHandler(t -> {
            // pg_terminate_backend, a server shutdown: the server says FATAL before it releases the lock, so stepping
            // down now, rather than when the socket closes, comes before anyone else can take over
            if (t instanceof PgException e && "FATAL".equals(e.getSeverity())) {
                sessionLost(opened, describe(e));
            } else {
                LOG.debugf("Election session error: %s", describe(t));
            }
        });
        conn.notificationHandler(n -> {
            if (opened.current() && isLeader()) {
                listener.notification(n.getChannel(), n.getPayload());
            } else {
                LOG.debugf("Dropped a notification on channel %s: this instance does not lead", n.getChannel());
            }
        });
        moveTo(ElectionState.WAITING);
        acquire(opened);
    }

    private void acquire(SessionAttempt follower) {
        if (options.acquire() == AcquireStrategy.WAIT) {
            // lock_timeout ends the wait on the server; this ends it should the server itself have gone silent
            long silence = options.poll().plus(options.lease()).toMillis();
            long timer = follower.after(silence,
                    () -> sessionLost(follower, "no answer from the server within " + silence + "ms"));
            follower.conn.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(options.lock())).onComplete(ar -> {
                if (!follower.current()) {
                    return;
                }
                follower.cancel(timer);
                if (ar.succeeded()) {
                    lead(follower);
                } else if (ar.cause() instanceof PgException e && LOCK_NOT_AVAILABLE.equals(e.getSqlState())) {
                    acquire(follower); // the wait timed out (lock_timeout = poll): check in and wait again
                } else {
                    sessionLost(follower, describe(ar.cause()));
                }
            });
        } else {
            follower.conn.preparedQuery("SELECT pg_try_advisory_lock($1)").execute(Tuple.of(options.lock()))
                    .onComplete(ar -> {
                        if (!follower.current()) {
                            return;
                        }
                        if (ar.failed()) {
                            sessionLost(follower, describe(ar.cause()));
                        } else if (ar.result().iterator().next().getBoolean(0)) {
                            lead(follower);
                        } else {
                            follower.after(options.poll().toMillis(), () -> acquire(follower));
                        }
                    });
        }
    }

    private void lead(SessionAttempt holder) {
        moveTo(ElectionState.BEGINNING_TERM);
        // the next term and LISTEN in one simple query: the term's row lock waits for fenced transactions of the
        // previous term to end, and the LISTEN takes effect with it
        long sent = System.nanoTime();
        holder.conn.query(leadSql).execute().onComplete(ar -> {
            if (!holder.current()) {
                return;
            }
            if (ar.failed()) {
                sessionLost(holder, "cannot begin a term in " + options.terms().qualifiedName() + " and listen: "
                        + describe(ar.cause()));
            } else if (lease.tooLate(sent, options.heartbeat())) {
                // fenced transactions held the term up so long that the lease would end before the first heartbeat:
                // confirm the session afresh
                confirmThenLead(holder, ar.result().iterator().next().getLong(0));
            } else {
                becomeLeader(holder, ar.result().iterator().next().getLong(0), sent);
            }
        });
    }

    private void confirmThenLead(SessionAttempt holder, long newTerm) {
        long sent = System.nanoTime();
        holder.conn.query("SELECT 1").execute().onComplete(ar -> {
            if (!holder.current()) {
                return;
            }
            if (ar.failed()) {
                sessionLost(holder, describe(ar.cause()));
            } else if (lease.tooLate(sent, options.heartbeat())) {
                sessionLost(holder, "the session was not confirmed well within the lease of " + options.lease());
            } else {
                becomeLeader(holder, newTerm, sent);
            }
        });
    }

    /** The lock is held, the term has begun and the channels are listened to; the lease counts from {@code confirmed}. */
    private void becomeLeader(SessionAttempt leader, long newTerm, long confirmed) {
        term = newTerm;
        lease.confirm(confirmed);
        moveTo(ElectionState.LEADING);
        Instant since = Instant.now(); // leadership took effect here; the log line and timers come after
        lastAcquireTime = Duration.ofNanos(System.nanoTime() - leader.openedAt);
        leader.every(options.heartbeat().toMillis(), () -> heartbeat(leader));
        leader.after(lease.remainingMillis(), () -> leaseCheck(leader));
        LOG.infof("Instance %s is now the leader of lock %d in term %d, listening on %s", options.instanceId(),
                options.lock(), newTerm, options.channels());
        listener.leadershipChanged(true, newTerm, since);
    }

    /** Confirms the session; while stepping down or leaving, only keeps it busy so that no follower evicts it. */
    private void heartbeat(SessionAttempt leader) {
        if (!leader.beginHeartbeat()) {
            return; // the previous confirmation is still out: the lease decides
        }
        long sent = System.nanoTime();
        leader.conn.query("SELECT 1").execute().onComplete(ar -> {
            if (!leader.current()) {
                return;
            }
            leader.heartbeatAnswered();
            if (ar.failed()) {
                sessionLost(leader, describe(ar.cause()));
            } else if (state == ElectionState.LEADING && !lease.valid()) {
                // the answer came after the lease ran out (a stalled event loop): leadership has ended already
                sessionLost(leader, "its lease of " + options.lease() + " ran out before the heartbeat was answered");
            } else if (state == ElectionState.LEADING) {
                lease.confirm(sent);
            }
        });
    }

    /** Fires when the lease would run out: steps down if no heartbeat has renewed it, or checks again when it would. */
    private void leaseCheck(SessionAttempt leader) {
        if (state != ElectionState.LEADING) {
            return;
        }
        if (lease.valid()) {
            leader.after(lease.remainingMillis(), () -> leaseCheck(leader));
        } else {
            sessionLost(leader, "its lease of " + options.lease() + " ran out unconfirmed");
        }
    }

    /** The session failed or its lease ran out: step down if leading, drop the session, rejoin the election. */
    private void sessionLost(SessionAttempt lost, String reason) {
        if (!lost.current()) {
            return;
        }
        switch (state) {
            case LEAVING, STEPPING_DOWN -> end(lost); // the step under way goes on without the session
            case LEADING -> stepDown(lost, reason);
            default -> {
                drop(ElectionState.STEPPING_DOWN);
                if (!stopping) {
                    LOG.warnf("Instance %s lost its election session (%s); reconnecting", options.instanceId(), reason);
                }
                steppingDown = close(lost.conn).onComplete(ar -> rejoin());
            }
        }
    }

    /**
     * Leadership ends: dispatch stops at once, observers are told, and only then is the session closed, so that a
     * session still alive keeps the lock until they return (or {@code observer-timeout} runs out).
     */
    private void stepDown(SessionAttempt leader, String reason) {
        Instant ended = lease.end();
        moveTo(ElectionState.STEPPING_DOWN);
        if (!stopping) {
            LOG.warnf("Instance %s lost its election session (%s) and stepped down as leader; reconnecting",
                    options.instanceId(), reason);
        }
        steppingDown = tellObservers(term, ended)
                .transform(ar -> {
                    end(leader);
                    return close(leader.conn);
                })
                .onComplete(ar -> rejoin());
    }

    private void rejoin() {
        if (stopping) {
            moveTo(ElectionState.STOPPED);
        } else {
            connect();
        }
    }

    private Future<Void> tellObservers(long ended, Instant at) {
        return bounded(listener.leadershipChanged(false, ended, at), options.observerTimeout()).recover(failure -> {
            LOG.warnf("Observers of the end of term %d of lock %d did not return within %s; the lock is given up"
                    + " anyway", ended, options.lock(), options.observerTimeout());
            return Future.succeededFuture();
        });
    }

    /** Ends the current session attempt and moves on: nothing it reports from now on is acted on. */
    private SessionAttempt drop(ElectionState next) {
        SessionAttempt dropped = attempt;
        end(dropped);
        moveTo(next);
        return dropped;
    }

    private void end(SessionAttempt ended) {
        ended.end();
        if (attempt == ended) {
            attempt = null;
            connected = false;
        }
    }

    private Future<Void> stopped(Future<Void> departure) {
        return departure.onComplete(ar -> moveTo(ElectionState.STOPPED));
    }

    /** The one place where the state changes. */
    private void moveTo(ElectionState next) {
        LOG.debugf("Election of lock %d: %s -> %s", options.lock(), state, next);
        state = next;
    }

    /** Closes a session, waiting at most a lease: a silent server must not hold up what comes next. */
    private Future<Void> close(PgConnection conn) {
        return bounded(conn.close(), options.lease()).otherwiseEmpty();
    }

    /** {@code future} failed with a timeout after {@code limit}, completing on the election's context. */
    private <T> Future<T> bounded(Future<T> future, Duration limit) {
        return onContext(future.timeout(Math.max(1, limit.toMillis()), TimeUnit.MILLISECONDS));
    }

    /** The outcome of {@code future}, delivered on the election's context whichever thread completes it. */
    private <T> Future<T> onContext(Future<T> future) {
        Promise<T> promise = Promise.promise();
        future.onComplete(ar -> context.runOnContext(v -> promise.handle(ar)));
        return promise.future();
    }

    private <T> Future<T> onContext(Supplier<Future<T>> action) {
        Promise<T> promise = Promise.promise();
        context.runOnContext(v -> action.get().onComplete(promise));
        return promise.future();
    }
}
