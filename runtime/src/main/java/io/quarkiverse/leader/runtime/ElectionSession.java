package io.quarkiverse.leader.runtime;

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
import io.vertx.core.impl.VertxInternal;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.pgclient.PgNotification;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * One election: a dedicated PostgreSQL session that waits for (or polls) an advisory lock, LISTENs while it holds it,
 * and confirms itself every heartbeat. All state changes happen on the election's own event-loop context. An election
 * runs once: after {@link #stop()} it cannot be started again.
 */
public final class ElectionSession {

    private static final Logger LOG = Logger.getLogger(ElectionSession.class);

    /** lock_timeout ran out while waiting in pg_advisory_lock. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";
    /** CREATE TABLE IF NOT EXISTS racing another session's: one of these, depending on where they collide. */
    private static final String DUPLICATE_TABLE = "42P07";
    private static final String UNIQUE_VIOLATION = "23505";

    private final Vertx vertx;
    private final Context context;
    private final ElectionOptions options;
    private final ElectionListener listener;
    private final PgConnectOptions connectOptions;
    private final long leaseNanos;
    private final long heartbeatNanos;
    private final String leadSql;
    private final String releaseSql;

    // written on the context, also read by isLeader() so that stop() ends leadership the moment it is called
    private volatile boolean running;
    private volatile boolean stopped;

    // confined to the context
    private PgConnection session;
    private Cancellable connecting;
    private Future<Void> steppingDown = Future.succeededFuture();
    private int failedConnects;
    private long heartbeatTimer = -1;
    private long leaseTimer = -1;
    private long pollTimer = -1;
    private long waitTimer = -1;
    private boolean heartbeatInFlight;

    // read from any thread by isLeader() and connected()
    private volatile boolean leading;
    private volatile boolean connected;
    private volatile Duration lastAcquireTime;
    private volatile long term;
    private long sessionOpenedAt;
    private volatile long leaseDeadline;

    public ElectionSession(Vertx vertx, ElectionOptions options, ElectionListener listener) {
        this.vertx = vertx;
        this.context = ((VertxInternal) vertx).createEventLoopContext();
        this.options = options;
        this.listener = listener;
        this.leaseNanos = options.lease().toNanos();
        this.heartbeatNanos = options.heartbeat().toNanos();
        // built now, not on the handover path, where a cold string concatenation costs milliseconds
        this.leadSql = options.leadSql();
        this.releaseSql = options.releaseSql();
        // a server that goes silent mid-statement closes the socket instead of hanging the election
        this.connectOptions = new PgConnectOptions(options.connectOptions())
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, options.sessionIdleTimeout().toMillis()))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    }

    /**
     * @return whether this instance holds the lock and confirmed its session less than a lease ago
     */
    public boolean isLeader() {
        return running && leading && System.nanoTime() - leaseDeadline < 0;
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
            if (!running && !stopped) {
                running = true;
                connect();
            }
            return Future.succeededFuture();
        });
    }

    /**
     * Gives up the election: stops dispatching, lets running handlers finish while the session still confirms itself,
     * UNLISTENs, unlocks and closes the session, then reports the end of leadership.
     */
    public Future<Void> stop() {
        stopped = true;
        running = false; // no dispatch from now on
        Instant stoppedAt = Instant.now();
        return onContext(() -> {
            if (connecting != null) {
                connecting.cancel();
                connecting = null;
            }
            PgConnection conn = session;
            if (conn == null) {
                return steppingDown; // a step-down under way reports the end of leadership itself
            }
            if (!leading) {
                detach();
                // a follower may be blocked in pg_advisory_lock: cancel it so the server reads our Terminate at once
                return within(conn.cancelRequest(), options.lease()).transform(ar -> close(conn));
            }
            if (leaseTimer >= 0) {
                vertx.cancelTimer(leaseTimer); // the heartbeat goes on while handlers drain, so no one evicts us
                leaseTimer = -1;
            }
            return listener.drain().transform(drained -> {
                if (session != conn) {
                    return steppingDown; // the session was lost while draining: that step-down reported it
                }
                detach();
                // one round trip: the lock is free the moment this returns
                Future<Void> released = conn.query(releaseSql)
                        .execute().mapEmpty();
                LOG.infof("Instance %s gives up the leadership of lock %d (term %d)", options.instanceId(),
                        options.lock(), term); // while the unlock is on its way
                return within(released, options.lease())
                        .transform(ar -> close(conn))
                        .transform(ar -> listener.leadershipChanged(false, term, stoppedAt));
            });
        });
    }

    private <T> Future<T> onContext(Supplier<Future<T>> action) {
        Promise<T> promise = Promise.promise();
        context.runOnContext(v -> action.get().onComplete(promise));
        return promise.future();
    }

    private void connect() {
        connecting = Uni.createFrom().<PgConnection> emitter(em -> context.runOnContext(v -> openSession().onComplete(ar -> {
            if (ar.succeeded()) {
                em.complete(ar.result());
            } else {
                em.fail(ar.cause());
            }
        })))
                .onFailure().invoke(this::connectFailed)
                .onFailure().retry().withBackOff(options.reconnectInitialDelay(), options.reconnectMaxDelay())
                .withJitter(0.5).indefinitely()
                .subscribe().with(this::sessionOpened, t -> LOG.error("Election stopped retrying", t));
    }

    private Future<PgConnection> openSession() {
        if (!running) {
            return Future.failedFuture("election stopped");
        }
        return PgConnection.connect(vertx, connectOptions)
                .compose(conn -> configure(conn).transform(ar -> {
                    if (ar.failed()) {
                        return close(conn).transform(ignored -> Future.failedFuture(ar.cause()));
                    }
                    if (!running) { // stopped while connecting
                        return close(conn).transform(ignored -> Future.failedFuture("election stopped"));
                    }
                    return Future.succeededFuture(conn);
                }));
    }

    private Future<PgConnection> configure(PgConnection conn) {
        // notices (such as "relation already exists, skipping" when instances create the term table at once) are
        // expected here: debug, not the client's default warning
        conn.noticeHandler(notice -> LOG.debugf("Election session notice: %s", notice.getMessage()));
        TermTable terms = options.terms();
        return conn.query(options.sessionSettingsSql()).execute()
                // PostgreSQL 14+: notice a dead client while blocked in pg_advisory_lock, and never end an idle
                // election session; older servers lack both settings
                .compose(r -> conn.query("SET client_connection_check_interval = '1s'").execute().otherwiseEmpty())
                .compose(r -> conn.query("SET idle_session_timeout = 0").execute().otherwiseEmpty())
                .compose(r -> conn.preparedQuery(terms.sessionCheckSql()).execute(Tuple.of(terms.qualifiedName())))
                .compose(rows -> {
                    Row row = rows.iterator().next();
                    if (row.getBoolean(0)) {
                        return Future.failedFuture(new IllegalStateException(
                                "the server is a standby in recovery; advisory locks there are not shared with the primary"));
                    }
                    return row.getBoolean(1) ? Future.succeededFuture() : createTermTable(conn);
                })
                .map(conn);
    }

    private Future<Void> createTermTable(PgConnection conn) {
        TermTable terms = options.terms();
        if (!terms.createTable()) {
            return Future.failedFuture(new IllegalStateException("the term table " + terms.qualifiedName()
                    + " does not exist and " + terms.createTableProperty() + " is false; create it with: "
                    + terms.ddl()));
        }
        LOG.infof("Creating the term table %s", terms.qualifiedName());
        return conn.query(terms.ddl()).execute().<Void> mapEmpty().recover(failure ->
        // another instance created it at the same moment
        failure instanceof PgException e && (DUPLICATE_TABLE.equals(e.getSqlState()) || UNIQUE_VIOLATION.equals(e.getSqlState()))
                ? Future.succeededFuture()
                : Future.failedFuture(failure));
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
        if (!running) {
            close(conn);
            return;
        }
        if (failedConnects > 0) {
            LOG.infof("Instance %s reopened its election session after %d failed attempts", options.instanceId(),
                    failedConnects);
            failedConnects = 0;
        }
        session = conn;
        connected = true;
        sessionOpenedAt = System.nanoTime();
        conn.closeHandler(v -> sessionLost(conn, "the connection was closed"));
        conn.exceptionHandler(t -> {
            // pg_terminate_backend, a server shutdown: the server says FATAL before it releases the lock, so stepping
            // down now, rather than when the socket closes, comes before anyone else can take over
            if (t instanceof PgException e && "FATAL".equals(e.getSeverity())) {
                sessionLost(conn, describe(e));
            } else {
                LOG.debugf("Election session error: %s", describe(t));
            }
        });
        conn.notificationHandler(n -> notification(conn, n));
        acquire(conn);
    }

    private void acquire(PgConnection conn) {
        if (session != conn) {
            return;
        }
        if (options.acquire() == AcquireStrategy.WAIT) {
            // lock_timeout ends the wait on the server; this ends it should the server itself have gone silent
            long silence = options.poll().plus(options.lease()).toMillis();
            waitTimer = vertx.setTimer(silence, id -> sessionLost(conn, "no answer from the server within " + silence + "ms"));
            conn.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(options.lock())).onComplete(ar -> {
                if (session != conn) {
                    return;
                }
                vertx.cancelTimer(waitTimer);
                waitTimer = -1;
                if (ar.succeeded()) {
                    lead(conn);
                } else if (ar.cause() instanceof PgException e && LOCK_NOT_AVAILABLE.equals(e.getSqlState())) {
                    acquire(conn); // the wait timed out (lock_timeout = poll): check in and wait again
                } else {
                    sessionLost(conn, describe(ar.cause()));
                }
            });
        } else {
            conn.preparedQuery("SELECT pg_try_advisory_lock($1)").execute(Tuple.of(options.lock())).onComplete(ar -> {
                if (session != conn) {
                    return;
                }
                if (ar.failed()) {
                    sessionLost(conn, describe(ar.cause()));
                } else if (ar.result().iterator().next().getBoolean(0)) {
                    lead(conn);
                } else {
                    pollTimer = vertx.setTimer(options.poll().toMillis(), id -> acquire(conn));
                }
            });
        }
    }

    private void lead(PgConnection conn) {
        // the next term and LISTEN in one simple query: the term's row lock waits for fenced transactions of the
        // previous term to end, and the LISTEN takes effect with it
        long sent = System.nanoTime();
        conn.query(leadSql).execute().onComplete(ar -> {
            if (session != conn) {
                return;
            }
            if (ar.failed()) {
                sessionLost(conn, "cannot begin a term in " + options.terms().qualifiedName() + " and listen: "
                        + describe(ar.cause()));
                return;
            }
            long newTerm = ar.result().iterator().next().getLong(0);
            if (System.nanoTime() - (sent + leaseNanos - heartbeatNanos) >= 0) {
                // fenced transactions held the term up so long that the lease would end before the first heartbeat:
                // confirm the session afresh
                confirmThenLead(conn, newTerm);
            } else {
                becomeLeader(conn, newTerm, sent);
            }
        });
    }

    private void confirmThenLead(PgConnection conn, long newTerm) {
        long sent = System.nanoTime();
        conn.query("SELECT 1").execute().onComplete(ar -> {
            if (session != conn) {
                return;
            }
            if (ar.failed()) {
                sessionLost(conn, describe(ar.cause()));
            } else if (System.nanoTime() - (sent + leaseNanos - heartbeatNanos) >= 0) {
                sessionLost(conn, "the session was not confirmed well within the lease of " + options.lease());
            } else {
                becomeLeader(conn, newTerm, sent);
            }
        });
    }

    /** The lock is held, the term has begun and the channels are listened to; the lease counts from {@code confirmed}. */
    private void becomeLeader(PgConnection conn, long newTerm, long confirmed) {
        term = newTerm;
        leaseDeadline = confirmed + leaseNanos;
        leading = true;
        Instant since = Instant.now(); // leadership took effect here; the log line and timers come after
        lastAcquireTime = Duration.ofNanos(System.nanoTime() - sessionOpenedAt);
        armLeaseTimer(conn);
        heartbeatTimer = vertx.setPeriodic(options.heartbeat().toMillis(), id -> heartbeat(conn));
        LOG.infof("Instance %s is now the leader of lock %d in term %d, listening on %s", options.instanceId(),
                options.lock(), newTerm, options.channels());
        listener.leadershipChanged(true, newTerm, since);
    }

    private void heartbeat(PgConnection conn) {
        if (heartbeatInFlight || session != conn) {
            return; // the previous confirmation is still out: the lease timer decides
        }
        heartbeatInFlight = true;
        long sent = System.nanoTime();
        conn.query("SELECT 1").execute().onComplete(ar -> {
            if (session != conn) {
                return;
            }
            heartbeatInFlight = false;
            if (ar.failed()) {
                sessionLost(conn, describe(ar.cause()));
            } else if (leading && System.nanoTime() - leaseDeadline >= 0) {
                // the answer came after the lease ran out (a stalled event loop): leadership has ended already
                sessionLost(conn, "its lease of " + options.lease() + " ran out before the heartbeat was answered");
            } else if (leading) {
                leaseDeadline = sent + leaseNanos;
                armLeaseTimer(conn);
            }
        });
    }

    private void armLeaseTimer(PgConnection conn) {
        if (leaseTimer >= 0) {
            vertx.cancelTimer(leaseTimer);
        }
        long delayMs = Math.max(1, (leaseDeadline - System.nanoTime()) / 1_000_000 + 1);
        leaseTimer = vertx.setTimer(delayMs, id -> {
            leaseTimer = -1;
            if (session == conn && leading && !isLeader()) {
                sessionLost(conn, "its lease of " + options.lease() + " ran out unconfirmed");
            }
        });
    }

    private void notification(PgConnection conn, PgNotification n) {
        if (session == conn && isLeader()) {
            listener.notification(n.getChannel(), n.getPayload());
        } else {
            LOG.debugf("Dropped a notification on channel %s: this instance does not lead", n.getChannel());
        }
    }

    /** The session failed or its lease ran out: step down if leading, drop the session, rejoin the election. */
    private void sessionLost(PgConnection conn, String reason) {
        if (session != conn) {
            return;
        }
        boolean wasLeader = leading;
        Instant ended = leadershipEnd();
        detach();
        if (running) {
            LOG.warnf("Instance %s lost its election session (%s)%s; reconnecting", options.instanceId(), reason,
                    wasLeader ? " and stepped down as leader" : "");
        }
        // a session that is still alive keeps the lock until observers have heard of the step-down (bounded by the lease)
        Future<Void> told = wasLeader ? within(listener.leadershipChanged(false, term, ended), options.lease())
                : Future.succeededFuture();
        steppingDown = told.transform(ar -> close(conn)).onComplete(ar -> {
            if (running && session == null && connecting == null) {
                connect();
            }
        });
    }

    /** Closes a session, waiting at most a lease: a silent server must not hold up what comes next. */
    private Future<Void> close(PgConnection conn) {
        return within(conn.close(), options.lease());
    }

    private Future<Void> within(Future<Void> future, Duration limit) {
        Promise<Void> bounded = Promise.promise();
        long timer = vertx.setTimer(Math.max(1, limit.toMillis()), id -> bounded.tryComplete());
        future.onComplete(ar -> {
            vertx.cancelTimer(timer);
            bounded.tryComplete();
        });
        return bounded.future();
    }

    /** Now, or the moment the lease ran out if it already has: when this instance's leadership actually ended. */
    private Instant leadershipEnd() {
        long overdue = System.nanoTime() - leaseDeadline;
        return leading && overdue > 0 ? Instant.now().minusNanos(overdue) : Instant.now();
    }

    /** Forgets the current session: after this, nothing it reports is acted on. */
    private void detach() {
        leading = false;
        session = null;
        connected = false;
        heartbeatInFlight = false;
        for (long timer : new long[] { heartbeatTimer, leaseTimer, pollTimer, waitTimer }) {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
        }
        heartbeatTimer = leaseTimer = pollTimer = waitTimer = -1;
    }

    private static String describe(Throwable t) {
        if (t instanceof PgException e) {
            return e.getErrorMessage() + " [SQLSTATE " + e.getSqlState() + "]";
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    }
}
