package io.quarkiverse.leader.runtime;

import java.util.HashSet;
import java.util.Set;
import java.util.function.BiConsumer;

import org.jboss.logging.Logger;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;

/**
 * One session of an election and the timers that belong to it. Once it is {@link #end() ended}, its timers are gone
 * and {@link #current()} is false, so a late callback of an old session has nothing to act on.
 */
final class SessionAttempt {

    private static final Logger LOG = Logger.getLogger(SessionAttempt.class);

    final PgConnection conn;
    /** The backend the session was checked on: a statement answered by any other one means a pooler moved it. */
    final int backendPid;
    /** Whether a pooler or proxy stands between, so that statements confirm their backend. */
    final boolean proxied;
    final long openedAt = System.nanoTime();
    private final Vertx vertx;
    private final Set<Long> timers = new HashSet<>();
    private volatile boolean ended; // read by fenced transactions, on other threads
    private boolean heartbeatInFlight;

    /**
     * Watches {@code conn}: its close, or a FATAL error (pg_terminate_backend, a server shutdown: the server says FATAL
     * before it releases the lock, so stepping down then, rather than when the socket closes, comes before anyone else
     * can take over), is reported to {@code lost} once; other errors are logged.
     */
    SessionAttempt(Vertx vertx, BackendSession session, BiConsumer<SessionAttempt, String> lost) {
        this.vertx = vertx;
        this.conn = session.conn();
        this.backendPid = session.backendPid();
        this.proxied = session.proxied();
        conn.closeHandler(v -> lost.accept(this, "the connection was closed"));
        conn.exceptionHandler(t -> {
            if (t instanceof PgException e && "FATAL".equals(e.getSeverity())) {
                lost.accept(this, SessionSetup.describe(e));
            } else {
                LOG.debugf("Election session error: %s", SessionSetup.describe(t));
            }
        });
    }

    boolean current() {
        return !ended;
    }

    /** Runs {@code action} once after {@code delayMs}, unless the attempt has ended by then; returns the timer's id. */
    long after(long delayMs, Runnable action) {
        long[] id = new long[1];
        id[0] = vertx.setTimer(Math.max(1, delayMs), t -> {
            timers.remove(id[0]);
            if (!ended) {
                action.run();
            }
        });
        timers.add(id[0]);
        return id[0];
    }

    /** Runs {@code action} every {@code periodMs} until the attempt ends. */
    void every(long periodMs, Runnable action) {
        timers.add(vertx.setPeriodic(Math.max(1, periodMs), t -> {
            if (!ended) {
                action.run();
            }
        }));
    }

    void cancel(long timer) {
        if (timers.remove(timer)) {
            vertx.cancelTimer(timer);
        }
    }

    /** Whether a heartbeat may be sent: not while the previous one is unanswered (the lease decides then). */
    boolean beginHeartbeat() {
        if (heartbeatInFlight) {
            return false;
        }
        heartbeatInFlight = true;
        return true;
    }

    void heartbeatAnswered() {
        heartbeatInFlight = false;
    }

    /** Forgets this session: its timers are cancelled and nothing it reports from now on is acted on. */
    void end() {
        ended = true;
        timers.forEach(vertx::cancelTimer);
        timers.clear();
    }
}
