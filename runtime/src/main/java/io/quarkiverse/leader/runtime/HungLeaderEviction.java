package io.quarkiverse.leader.runtime;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

/**
 * Ends the session of a leader that holds the lock in the election's database but has stopped confirming it (a paused
 * process, a blocked event loop, a network that swallows its packets). Such a leader has already stopped believing it
 * leads: its lease is shorter than the silence that triggers eviction.
 * <p>
 * The checks cost a statement each, so they come no more often than the holder's silence needs: the follower first in
 * line (of those waiting for the lock, the one with the lowest backend pid; or one that is not waiting) checks again
 * just after the holder, silent from then on, would have crossed the threshold, and the other followers a threshold
 * later still (at most a {@code poll} later), so that one of them takes the watch over should the first leave the
 * line or fail to end the holder.
 */
final class HungLeaderEviction {

    private static final Logger LOG = Logger.getLogger(HungLeaderEviction.class);

    /** pg_terminate_backend of a session this role may not end. */
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    /** A wait, on {@code pg_locks w}, for the lock that {@code pg_locks l} shows held. */
    private static final String WAITING = """
            w.locktype = 'advisory' AND NOT w.granted AND w.objsubid = 1 AND w.database = l.database
              AND w.classid = l.classid AND w.objid = l.objid""";

    /**
     * Finds the holder of lock $1 and ends it in the same statement, only if at that moment it still holds the lock
     * here, is idle, has been silent for more than $2 ms and may be ended by this role: a holder that spoke, ran a
     * statement or let go since the last look, and a session that has taken its pid over since, are left alone. Also
     * whether this follower, whose session's backend is $3 (0 for none), is first in line.
     */
    private static final String EVICT = """
            SELECT a.pid, a.application_name, a.state_change IS NOT NULL AS visible, s.can_end, s.silent_ms,
                   CASE WHEN a.state = 'idle' AND s.silent_ms > $2 AND s.can_end
                        THEN pg_terminate_backend(a.pid) ELSE false END AS ended,
                   NOT EXISTS (SELECT 1 FROM pg_locks w WHERE %s AND w.pid = $3)
                     OR NOT EXISTS (SELECT 1 FROM pg_locks w WHERE %s AND w.pid < $3) AS first_in_line
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_roles h ON h.oid = a.usesysid,
                 LATERAL (SELECT %s AS can_end,
                   coalesce((extract(epoch FROM clock_timestamp() - a.state_change) * 1000)::bigint, 0) AS silent_ms) s
            WHERE\s""".formatted(WAITING, WAITING, EvictionPrivileges.CAN_END) + LockHolder.HELD_HERE;

    private final Context context;
    private final Supplier<Pool> pool;
    private final ElectionOptions options;
    private final BooleanSupplier leading;
    private final IntSupplier ownBackend;
    private final EvictionPrivileges privileges;
    private final long thresholdMillis;
    private final long heartbeatMillis;
    private final long pollMillis;
    // confined to the context
    private boolean started;
    private boolean stopped;
    private long timer = -1;

    HungLeaderEviction(Context context, Supplier<Pool> pool, ElectionOptions options, BooleanSupplier leading,
            IntSupplier ownBackend, String property) {
        this.context = context;
        this.pool = pool;
        this.options = options;
        this.leading = leading;
        this.ownBackend = ownBackend;
        this.privileges = new EvictionPrivileges(pool, options, property);
        this.thresholdMillis = options.evictionThreshold().toMillis();
        this.heartbeatMillis = options.heartbeat().toMillis();
        this.pollMillis = Math.max(heartbeatMillis, options.poll().toMillis());
    }

    void start() {
        context.runOnContext(v -> {
            if (started) {
                return;
            }
            started = true;
            // the elections of an instance, started together, do not all ask at once
            next(heartbeatMillis + ThreadLocalRandom.current().nextLong(heartbeatMillis));
            privileges.check().onFailure(e -> LOG.debugf("Could not check the privileges eviction needs: %s",
                    e.getMessage()));
        });
    }

    void stop() {
        context.runOnContext(v -> {
            stopped = true;
            context.owner().cancelTimer(timer);
        });
    }

    /**
     * One check, on the context: its result is how many milliseconds to wait before the next. One statement at a time:
     * one that hangs on a pooled connection holds the next checks up until the pool's connection fails, rather than
     * taking another connection each time.
     */
    Future<Long> check() {
        if (leading.getAsBoolean()) {
            return Future.succeededFuture(heartbeatMillis); // no statement: a leader has no one to evict
        }
        return pool.get().preparedQuery(EVICT).execute(Tuple.of(options.lock(), thresholdMillis, ownBackend.getAsInt()))
                .compose(this::outcome)
                // only should the server's own rule differ from CAN_END: then said once, like any holder it may not end
                .recover(failure -> failure instanceof PgException e && INSUFFICIENT_PRIVILEGE.equals(e.getSqlState())
                        ? privileges.check().transform(ar -> Future.failedFuture(failure))
                        : Future.failedFuture(failure));
    }

    /** On the context: the next check after {@code delayMillis}, unless stopped by then. */
    private void next(long delayMillis) {
        if (stopped) {
            return;
        }
        timer = context.owner().setTimer(Math.max(1, delayMillis), id -> {
            if (stopped) {
                return;
            }
            // the pool answers on the application's event loop: back to the context for the next one
            check().onComplete(ar -> context.runOnContext(v -> {
                if (ar.failed()) {
                    LOG.debugf("Check for a hung leader failed: %s", ar.cause().getMessage());
                }
                next(ar.succeeded() ? ar.result() : heartbeatMillis);
            }));
        });
    }

    private Future<Long> outcome(RowSet<Row> rows) {
        for (Row row : rows) {
            if (Boolean.TRUE.equals(row.getBoolean("ended"))) {
                LOG.warnf("Instance %s ended the session of the hung leader %s (pid %d): silent for %d ms, longer than"
                        + " lease + heartbeat (%d ms)", options.instanceId(), row.getString("application_name"),
                        row.getInteger("pid"), row.getLong("silent_ms"), thresholdMillis);
                return Future.succeededFuture(heartbeatMillis);
            }
            if (!Boolean.TRUE.equals(row.getBoolean("visible")) || !Boolean.TRUE.equals(row.getBoolean("can_end"))) {
                // a holder this role may not read or end: skipped, and said once
                return privileges.check().map(pollMillis);
            }
            long overdue = untilOverdue(row.getLong("silent_ms"));
            // the others look a threshold later, when the first in line should have ended such a holder: one that
            // became first in line since (the lock passed on, the first left) takes the watch over within that
            return Future.succeededFuture(Boolean.TRUE.equals(row.getBoolean("first_in_line")) ? overdue
                    : Math.min(pollMillis, overdue + thresholdMillis));
        }
        return Future.succeededFuture(heartbeatMillis); // no holder: one is about to take the lock
    }

    /** Just after the holder, silent for {@code silentMillis} now and from now on, would have crossed the threshold. */
    private long untilOverdue(long silentMillis) {
        long margin = Math.max(1, heartbeatMillis / 4);
        return Math.min(pollMillis, Math.max(margin, thresholdMillis - silentMillis + margin));
    }
}
