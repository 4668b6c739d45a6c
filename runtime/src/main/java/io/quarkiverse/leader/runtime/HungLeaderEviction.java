package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

/**
 * Ends the session of a leader that holds the lock in the election's database but has stopped confirming it (a paused
 * process, a blocked event loop, a network that swallows its packets). Such a leader has already stopped believing it
 * leads: its lease is shorter than the silence that triggers eviction.
 * <p>
 * The check rides in the follower's own lock statement, so that an idle follower runs one statement, on its own
 * session, where it would otherwise run two, one of them through the pool. The statement looks at the holder, ends it
 * if it is overdue, and then waits for the lock (or tries it) for as long as the next look may wait
 * ({@code lock_timeout} for this statement alone). The follower first in line (no session with a lower backend pid
 * waits for the lock; with {@code acquire=poll}, none waits, so every follower) looks again just after the holder,
 * silent from then on, would have crossed the threshold, and the other followers a threshold later still (at most a
 * {@code poll} later), so that one of them takes the watch over should the first leave the line or fail to end the
 * holder.
 */
final class HungLeaderEviction {

    private static final Logger LOG = Logger.getLogger(HungLeaderEviction.class);

    /**
     * Finds the holder of the lock and ends it in the same statement, only if at that moment it still holds the lock
     * here, is idle, has been silent for more than the threshold and may be ended by this role: a holder that spoke,
     * ran a statement or let go since the last look, and a session that has taken its pid over since, are left alone.
     * Also when this follower's session should look next ({@code next_ms}): a holder overdue that it did not end (not
     * idle, or not this role's to end) is looked at again a threshold later, not at once. One scan of {@code pg_locks},
     * and the holder's row of the activity statistics only: the looks of all followers grow with the sessions, and each
     * look costs what the server reads of them. A granted row without a pid (a prepared transaction's) is no holder:
     * {@code pg_stat_get_activity(NULL)} would be every session. Runs only when the statement runs on the session's own
     * backend ({@code one.own}). Placeholders: 1 the lock, 2 the threshold, 3 a quarter heartbeat (the margin), 4 the
     * poll: parameters of a prepared statement, or literals.
     */
    private static final String LOOK = """
            WITH l AS (SELECT l.pid, l.granted FROM pg_locks l WHERE %s)
            SELECT a.pid, a.application_name, a.state_change IS NOT NULL AS visible, s.can_end, s.silent_ms,
                   CASE WHEN a.state = 'idle' AND s.silent_ms > %%2$s AND s.can_end
                        THEN pg_terminate_backend(a.pid) ELSE false END AS ended,
                   CASE WHEN NOT EXISTS (SELECT 1 FROM l w WHERE NOT w.granted AND w.pid < pg_backend_pid())
                        THEN o.overdue ELSE least(%%4$s, o.overdue + %%2$s) END AS next_ms
            FROM l CROSS JOIN LATERAL pg_stat_get_activity(l.pid) a JOIN pg_roles h ON h.oid = a.usesysid,
                 LATERAL (SELECT %s AS can_end,
                   coalesce((extract(epoch FROM clock_timestamp() - a.state_change) * 1000)::bigint, 0) AS silent_ms) s,
                 LATERAL (SELECT least(%%4$s, CASE WHEN s.silent_ms > %%2$s THEN %%2$s
                                                   ELSE %%2$s - s.silent_ms + %%3$s END) AS overdue) o
            WHERE l.granted AND l.pid IS NOT NULL AND a.pid = l.pid AND one.own
            LIMIT 1""".formatted(LockHolder.ofLockHere("%1$s"), EvictionPrivileges.CAN_END);

    /**
     * The look, then the lock statement (placeholder 5), left out when the look ended the holder or has something to
     * say (placeholder 6, a condition on the look {@code c}) and, behind a pooler, when the statement does not run on
     * the session's own backend (placeholder 8, evaluated once, before the look). With no holder, the next look comes
     * after a heartbeat (placeholder 7). The first two columns are those of {@link OwnBackend}'s statements: null when
     * the lock was not asked for, and the backend.
     */
    private static final String STATEMENT = """
            SELECT CASE WHEN one.own AND NOT (%%6$s) THEN %%5$s END AS locked, pg_backend_pid(), one.own AS own,
                   c.pid, c.application_name, c.silent_ms, c.ended, c.visible, c.can_end,
                   coalesce(c.next_ms, %%7$s) AS next_ms
            FROM (SELECT %%8$s AS own) one LEFT JOIN LATERAL (%s) c ON true""".formatted(LOOK);

    /** A direct session's values of the placeholders: the statement is prepared once and its plan kept. */
    private static final List<String> PARAMETERS = List.of("$1::bigint", "$2::bigint", "$3::bigint", "$4::bigint",
            "$5::bigint", "$6::boolean");

    private final ElectionOptions options;
    private final EvictionPrivileges privileges;
    private final long thresholdMillis;
    private final long heartbeatMillis;
    private final long pollMillis;
    private final String preparedWait;
    private final String preparedTry;
    // written on the election's context, reset by a failed check on the pool's
    private volatile boolean reported;
    private boolean failing; // confined to the election's context

    HungLeaderEviction(Supplier<Pool> pool, ElectionOptions options, String property) {
        this.options = options;
        this.privileges = new EvictionPrivileges(pool, options, property);
        this.thresholdMillis = options.evictionThreshold().toMillis();
        this.heartbeatMillis = options.heartbeat().toMillis();
        this.pollMillis = Math.max(heartbeatMillis, options.poll().toMillis());
        this.preparedWait = sql(true, PARAMETERS, "true");
        this.preparedTry = sql(false, PARAMETERS, "true");
    }

    /**
     * The follower's statement that looks at the holder and then waits for the lock ({@code wait}) or tries it: prepared
     * on a direct session, a simple query with literals behind a pooler (see {@link OwnBackend}).
     */
    Future<RowSet<Row>> lock(boolean wait, SessionAttempt follower) {
        return lock(wait, follower.conn, follower.proxied, follower.backendPid);
    }

    /** As above, on {@code conn}, whose session has backend {@code pid} behind a pooler if {@code proxied}. */
    Future<RowSet<Row>> lock(boolean wait, SqlConnection conn, boolean proxied, int pid) {
        // a holder this role may not read or end is skipped, and said once: the first look that sees one returns at once
        boolean report = !reported;
        if (!proxied) {
            return conn.preparedQuery(wait ? preparedWait : preparedTry).execute(Tuple.of(options.lock(), thresholdMillis,
                    marginMillis(), pollMillis, heartbeatMillis, report));
        }
        // in parentheses: a cast binds tighter than the minus of a negative key
        List<String> literals = List.of("(" + options.lock() + ")::bigint", Long.toString(thresholdMillis),
                Long.toString(marginMillis()), Long.toString(pollMillis), Long.toString(heartbeatMillis),
                Boolean.toString(report));
        // only on the session's own backend, and only if that backend does not hold the lock already
        return conn.query(sql(wait, literals, OwnBackend.free(options.lock(), pid))).execute();
    }

    /** The statement with {@code values} for lock, threshold, margin, poll, heartbeat and report; {@code own} as above. */
    private static String sql(boolean wait, List<String> values, String own) {
        String lock = values.get(0);
        String heartbeat = values.get(4);
        String statement = wait
                // lock_timeout for this statement alone: the wait ends when the next look is due
                ? "pg_advisory_lock(CASE WHEN set_config('lock_timeout', coalesce(c.next_ms, " + heartbeat
                        + ") || 'ms', true) IS NOT NULL THEN " + lock + " END) IS NOT NULL"
                : "pg_try_advisory_lock(" + lock + ")";
        String skip = "coalesce(c.ended, false) OR (" + values.get(5)
                + " AND c.pid IS NOT NULL AND NOT (c.visible AND c.can_end))";
        return STATEMENT.formatted(lock, values.get(1), values.get(2), values.get(3), statement, skip, heartbeat, own);
    }

    private long marginMillis() {
        return Math.max(1, heartbeatMillis / 4);
    }

    /** What the look found, on the context: says that it ended a holder, or checks the privileges of one it may not end. */
    void outcome(Row row) {
        failing = false;
        if (Boolean.TRUE.equals(row.getBoolean("ended"))) {
            LOG.warnf("Instance %s ended the session of the hung leader %s (pid %d): silent for %d ms, longer than"
                    + " lease + heartbeat (%d ms)", options.instanceId(), row.getString("application_name"),
                    row.getInteger("pid"), row.getLong("silent_ms"), thresholdMillis);
        } else if (!reported && row.getValue("pid") != null && !(Boolean.TRUE.equals(row.getBoolean("visible"))
                && Boolean.TRUE.equals(row.getBoolean("can_end")))) {
            reported = true;
            checkPrivileges();
        }
    }

    /**
     * Whether the lock statement was left out for what the look found: the follower waits a heartbeat without looking,
     * then looks again.
     */
    static boolean skipped(Row row) {
        return row.getValue("locked") == null && Boolean.TRUE.equals(row.getBoolean("own"));
    }

    /**
     * A look that failed (a server error, the session still open): said, and the privileges checked, so that the cause
     * is named; the follower waits without looking this once.
     */
    void failed(Throwable failure) {
        // said once until a look succeeds again, not at every look
        Logger.Level level = failing ? Logger.Level.DEBUG : Logger.Level.WARN;
        failing = true;
        LOG.logf(level, "Instance %s could not look for a hung leader of lock %d: %s; it waits for the lock without"
                + " looking until its next look", options.instanceId(), options.lock(), SessionSetup.describe(failure));
        checkPrivileges();
    }

    /** Through the pool: said once, should a report be lost (the pool not ready, say) another look reports again. */
    private void checkPrivileges() {
        try {
            privileges.check().onFailure(e -> {
                reported = false;
                LOG.debugf("Could not check the privileges eviction needs: %s", e.getMessage());
            });
        } catch (RuntimeException e) { // no pool yet, or one that is closing
            reported = false;
            LOG.debugf("Could not check the privileges eviction needs: %s", e);
        }
    }

    /** How long a follower that tries the lock waits before its next look and try. */
    long nextMillis(Row row) {
        return Boolean.TRUE.equals(row.getBoolean("ended")) ? heartbeatMillis : row.getLong("next_ms");
    }
}
