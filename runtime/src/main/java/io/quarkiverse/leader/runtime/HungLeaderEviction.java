package io.quarkiverse.leader.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
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
 */
final class HungLeaderEviction {

    private static final Logger LOG = Logger.getLogger(HungLeaderEviction.class);

    /** pg_terminate_backend of a session this role may not end. */
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    /**
     * Finds the holder of lock $1 and ends it in the same statement, only if at that moment it still holds the lock
     * here, is idle, has been silent for more than $2 ms and may be ended by this role: a holder that spoke, ran a
     * statement or let go since the last look, and a session that has taken its pid over since, are left alone.
     */
    private static final String EVICT = """
            SELECT a.pid, a.application_name, a.state_change IS NOT NULL AS visible, s.can_end, s.silent_ms,
                   CASE WHEN a.state = 'idle' AND s.silent_ms > $2 AND s.can_end
                        THEN pg_terminate_backend(a.pid) ELSE false END AS ended
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_roles h ON h.oid = a.usesysid,
                 LATERAL (SELECT %s AS can_end,
                   coalesce((extract(epoch FROM clock_timestamp() - a.state_change) * 1000)::bigint, 0) AS silent_ms) s
            WHERE\s""".formatted(EvictionPrivileges.CAN_END) + LockHolder.HELD_HERE;

    private final Context context;
    private final Supplier<Pool> pool;
    private final ElectionOptions options;
    private final BooleanSupplier leading;
    private final EvictionPrivileges privileges;
    private final long thresholdMillis;
    private final AtomicBoolean checking = new AtomicBoolean();
    private long timer = -1;

    HungLeaderEviction(Context context, Supplier<Pool> pool, ElectionOptions options, BooleanSupplier leading,
            String property) {
        this.context = context;
        this.pool = pool;
        this.options = options;
        this.leading = leading;
        this.privileges = new EvictionPrivileges(pool, options, property);
        this.thresholdMillis = options.evictionThreshold().toMillis();
    }

    void start() {
        context.runOnContext(v -> {
            timer = context.owner().setPeriodic(options.heartbeat().toMillis(), id -> check());
            privileges.check().onFailure(e -> LOG.debugf("Could not check the privileges eviction needs: %s",
                    e.getMessage()));
        });
    }

    void stop() {
        context.runOnContext(v -> context.owner().cancelTimer(timer));
    }

    private void check() {
        // one statement at a time: one that hangs on a pooled connection holds the next checks up until the pool's
        // connection fails, rather than taking another connection each heartbeat
        if (leading.getAsBoolean() || !checking.compareAndSet(false, true)) {
            return;
        }
        pool.get().preparedQuery(EVICT).execute(Tuple.of(options.lock(), thresholdMillis))
                .compose(this::outcome)
                // only should the server's own rule differ from CAN_END: then said once, like any holder it may not end
                .recover(failure -> failure instanceof PgException e && INSUFFICIENT_PRIVILEGE.equals(e.getSqlState())
                        ? privileges.check().transform(ar -> Future.failedFuture(failure))
                        : Future.failedFuture(failure))
                .onComplete(ar -> {
                    checking.set(false);
                    if (ar.failed()) {
                        LOG.debugf("Check for a hung leader failed: %s", ar.cause().getMessage());
                    }
                });
    }

    private Future<Void> outcome(RowSet<Row> rows) {
        for (Row row : rows) {
            if (Boolean.TRUE.equals(row.getBoolean("ended"))) {
                LOG.warnf("Instance %s ended the session of the hung leader %s (pid %d): silent for %d ms, longer than"
                        + " lease + heartbeat (%d ms)", options.instanceId(), row.getString("application_name"),
                        row.getInteger("pid"), row.getLong("silent_ms"), thresholdMillis);
            } else if (!Boolean.TRUE.equals(row.getBoolean("visible"))
                    || !Boolean.TRUE.equals(row.getBoolean("can_end"))) {
                return privileges.check(); // a holder this role may not read or end: skipped, and said once
            }
        }
        return Future.succeededFuture();
    }
}
