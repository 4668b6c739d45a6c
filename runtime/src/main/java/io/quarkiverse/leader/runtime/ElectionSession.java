package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.time.Instant;

import org.jboss.logging.Logger;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;

/**
 * One election as a state machine ({@link ElectionState}): a dedicated PostgreSQL session waits for (or polls) an
 * advisory lock, LISTENs while it holds it, and confirms itself every heartbeat. Every transition happens on the
 * election's own context, in {@link #moveTo}. An election runs once: after {@link #stop()} it cannot be started again.
 */
public final class ElectionSession {

    private static final Logger LOG = Logger.getLogger(ElectionSession.class);

    private final Vertx vertx;
    private final Context context;
    private final ElectionOptions options;
    private final ElectionListener listener;
    private final SessionConnections connections;
    private final SessionOpener opener;
    private final ContextFutures futures;
    private final Lease lease;
    private final LockAcquisition acquisition;
    private final Heartbeat heartbeat;
    private final Departure departure;

    private volatile ElectionState state = ElectionState.IDLE;
    private volatile boolean stopping; // set by stop() on any thread: leadership ends the moment it is called
    private volatile boolean connected;
    private volatile long term;
    private volatile Duration lastAcquireTime;

    private volatile SessionAttempt attempt; // written on the context; read by fenced transactions, on other threads

    // confined to the context
    private Future<Void> steppingDown;
    private Future<Void> left;

    // linked with the session, not on the step-down path (see Departure)
    private final Handler<AsyncResult<Void>> stopped = ar -> moveTo(ElectionState.STOPPED);
    private final Handler<AsyncResult<Void>> rejoin = ar -> rejoin();

    public ElectionSession(Vertx vertx, ElectionOptions options, ElectionListener listener) {
        this(vertx, options, listener, null);
    }

    /** An election whose followers end the session of a hung leader, unless {@code eviction} is null. */
    ElectionSession(Vertx vertx, ElectionOptions options, ElectionListener listener, HungLeaderEviction eviction) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.options = options;
        this.listener = listener;
        this.connections = new SessionConnections(context);
        this.opener = new SessionOpener(context, options, new SessionSetup(context, options, connections));
        this.futures = new ContextFutures(context);
        this.lease = new Lease(options.lease());
        this.acquisition = new LockAcquisition(options, lease, eviction, holder -> moveTo(ElectionState.BEGINNING_TERM),
                this::becomeLeader, this::lost);
        this.heartbeat = new Heartbeat(options, lease, () -> state == ElectionState.LEADING, this::lost);
        this.departure = new Departure(options, futures, listener, this::end);
    }

    /** Whether this instance holds the lock and confirmed its session less than a lease ago. */
    public boolean isLeader() {
        return !stopping && state == ElectionState.LEADING && lease.valid();
    }

    /**
     * Whether a fenced transaction of {@code term} may commit: while this instance leads, and while a leader that leaves
     * lets its handlers finish, until it unlocks. Its term row, held {@code FOR SHARE} by the transaction, keeps a
     * successor's term from beginning meanwhile.
     */
    public boolean mayCommit(long term) {
        return this.term == term && switch (state) {
            case LEADING -> lease.valid();
            case LEAVING -> departure.holdsLock(attempt);
            default -> false;
        };
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

    /** The server backend of the election's session now, or 0 when it has none. */
    public int backendPid() {
        SessionAttempt current = attempt;
        return current == null ? 0 : current.backendPid;
    }

    /** Whether the election has its session to PostgreSQL now (leading or waiting). */
    public boolean connected() {
        return connected;
    }

    public Context context() {
        return context;
    }

    public Future<Void> start() {
        return futures.onContext(() -> {
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
        return futures.onContext(() -> leave(stoppedAt));
    }

    private Future<Void> leave(Instant stoppedAt) {
        if (left == null) {
            left = switch (state) {
                case IDLE, STOPPED -> stopped(Future.succeededFuture());
                case CONNECTING -> {
                    moveTo(ElectionState.LEAVING);
                    yield stopped(futures.onContext(opener.cancel())); // a session opening right now is closed at once
                }
                case WAITING, BEGINNING_TERM -> {
                    SessionAttempt follower = drop(ElectionState.LEAVING);
                    // it may be blocked in pg_advisory_lock: cancel that so the server reads our Terminate at once
                    yield stopped(futures.bounded(follower.conn.cancelRequest(), options.lease())
                            .transform(ar -> departure.close(follower.conn)));
                }
                case LEADING -> stopped(handOver(stoppedAt));
                case STEPPING_DOWN -> steppingDown; // it sees stopping and does not reconnect
                case LEAVING -> Future.failedFuture("left already"); // unreachable: leaving sets left
            };
            // last, once no session or probe is left: the election's Vert.x may close right after
            left = left.eventually(connections::close);
        }
        return left;
    }

    private Future<Void> handOver(Instant stoppedAt) {
        SessionAttempt leader = attempt;
        moveTo(ElectionState.LEAVING);
        Instant ran = lease.end(); // a lease that ran out before the stop (a pause) ended leadership then
        return departure.handOver(leader, term, ran.isBefore(stoppedAt) ? ran : stoppedAt);
    }

    private void connect() {
        moveTo(ElectionState.CONNECTING);
        opener.open(this::sessionOpened);
    }

    private void sessionOpened(BackendSession session) {
        PgConnection conn = session.conn();
        SessionAttempt opened = new SessionAttempt(vertx, session, this::lost);
        attempt = opened;
        connected = true;
        conn.notificationHandler(n -> {
            if (opened.current()) {
                listener.notification(n.getChannel(), n.getPayload()); // counted as dropped there unless it leads
            }
        });
        moveTo(ElectionState.WAITING);
        acquisition.acquire(opened);
    }

    /** The lock is held, the term has begun and the channels are listened to. */
    private void becomeLeader(SessionAttempt leader, long newTerm, long confirmedAt) {
        term = newTerm;
        lease.confirm(confirmedAt);
        moveTo(ElectionState.LEADING);
        Instant since = Instant.now(); // leadership took effect here; the log line and timers come after
        lastAcquireTime = Duration.ofNanos(System.nanoTime() - leader.openedAt);
        heartbeat.start(leader);
        LOG.infof("Instance %s is now the leader of lock %d in term %d, listening on %s", options.instanceId(),
                options.lock(), newTerm, options.channels());
        listener.leadershipChanged(true, newTerm, since);
    }

    /** The session failed or its lease ran out: step down if leading, drop the session, rejoin the election. */
    private void lost(SessionAttempt lost, String reason) {
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
                steppingDown = departure.close(lost.conn).onComplete(rejoin);
            }
        }
    }

    /** Leadership ends: dispatch stops at once, then the departure tells the observers and closes the session. */
    private void stepDown(SessionAttempt leader, String reason) {
        Instant ended = lease.end();
        moveTo(ElectionState.STEPPING_DOWN);
        if (!stopping) {
            LOG.warnf("Instance %s lost its election session (%s) and stepped down as leader; reconnecting",
                    options.instanceId(), reason);
        }
        steppingDown = departure.stepDown(leader, term, ended).onComplete(rejoin);
    }

    private void rejoin() {
        if (stopping) {
            moveTo(ElectionState.STOPPED);
        } else {
            connect();
        }
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
        return departure.onComplete(stopped);
    }

    /** The one place where the state changes. */
    private void moveTo(ElectionState next) {
        LOG.debugf("Election of lock %d: %s -> %s", options.lock(), state, next);
        state = next;
    }
}
