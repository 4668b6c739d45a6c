package io.quarkiverse.leader.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * Whether this instance may evict the session that holds the lock. It must read the holder's state (a session of a role
 * whose privileges it has, or with {@code pg_read_all_stats}) and end it (the same, or {@code pg_signal_backend}; a
 * superuser's session only as a superuser). When it may not, it says so once, naming the roles and the GRANT to run.
 */
final class EvictionPrivileges {

    private static final Logger LOG = Logger.getLogger(EvictionPrivileges.class);

    /**
     * Whether this role may end the session {@code a} (of {@code pg_stat_activity}) of role {@code h} (of
     * {@code pg_roles}): pg_terminate_backend's own rule.
     */
    static final String CAN_END = """
            ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
              OR (NOT h.rolsuper AND (pg_has_role(a.usesysid, 'USAGE')
                  OR pg_has_role('pg_signal_backend', 'USAGE'))))""";

    private static final String QUERY = """
            SELECT a.pid, a.usename, h.rolsuper AS holder_superuser, quote_ident(current_user) AS me,
                   pg_has_role(a.usesysid, 'USAGE') OR pg_has_role('pg_read_all_stats', 'USAGE') AS can_see,
                   %s AS can_end
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_roles h ON h.oid = a.usesysid
            WHERE\s""".formatted(CAN_END) + LockHolder.HELD_HERE;

    private final Supplier<Pool> pool;
    private final ElectionOptions options;
    private final String property;
    private final AtomicBoolean warned = new AtomicBoolean();

    EvictionPrivileges(Supplier<Pool> pool, ElectionOptions options, String property) {
        this.pool = pool;
        this.options = options;
        this.property = property;
    }

    /** Checks against the current holder of the lock, if any; once it has warned, does nothing. */
    Future<Void> check() {
        if (warned.get()) {
            return Future.succeededFuture();
        }
        return pool.get().preparedQuery(QUERY).execute(Tuple.of(options.lock())).map(rows -> {
            for (Row row : rows) {
                boolean canSee = Boolean.TRUE.equals(row.getBoolean("can_see"));
                boolean canEnd = Boolean.TRUE.equals(row.getBoolean("can_end"));
                if (!(canSee && canEnd) && warned.compareAndSet(false, true)) {
                    LOG.warn(message(row, canSee, canEnd));
                }
            }
            return null;
        });
    }

    private String message(Row row, boolean canSee, boolean canEnd) {
        String holder = "Instance " + options.instanceId() + " cannot evict a hung leader of lock " + options.lock()
                + " (" + property + "): the lock is held by role " + row.getString("usename") + " (pid "
                + row.getInteger("pid") + ")";
        String until = "; until then a hung leader keeps the lock until PostgreSQL drops its session";
        String me = row.getString("me");
        if (!canEnd && Boolean.TRUE.equals(row.getBoolean("holder_superuser"))) {
            return holder + ", a superuser, whose session only a superuser may end. Run the instances as a role that is"
                    + " not a superuser" + until;
        }
        String what = !canSee && !canEnd ? "neither inspect nor end" : !canSee ? "not inspect" : "not end";
        return holder + ", whose session role " + me + " may " + what + ". Run GRANT pg_signal_backend,"
                + " pg_read_all_stats TO " + me + ", or run every instance as the same role" + until;
    }
}
