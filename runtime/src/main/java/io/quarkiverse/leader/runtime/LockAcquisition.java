package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.SessionSetup.describe;

import java.util.function.BiConsumer;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

/**
 * Takes the lock on a follower's session and begins a term: waits in {@code pg_advisory_lock} (or polls with
 * {@code pg_try_advisory_lock}), then runs the next term and the LISTENs in one query.
 */
final class LockAcquisition {

    private static final Logger LOG = Logger.getLogger(LockAcquisition.class);

    /** lock_timeout ran out while waiting in pg_advisory_lock. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    /**
     * Behind a pooler or proxy, the lock is taken only on the backend the session was checked on (%2$d), and only if that
     * backend does not hold it already: a pooler that gave the backend to another election's session would otherwise
     * grant the lock to both, since a session advisory lock is re-entrant. A simple query, with the numbers as
     * literals, so that no pooler can split it across backends.
     */
    private static final String ON_OWN_BACKEND = "pg_backend_pid() = %2$d AND NOT EXISTS (SELECT 1 FROM pg_locks"
            + " WHERE locktype = 'advisory' AND pid = %2$d AND objsubid = 1"
            + " AND ((classid::bigint << 32) | objid::bigint) = %1$d)";
    private static final String WAIT_SQL = "SELECT pg_advisory_lock($1)";
    private static final String TRY_SQL = "SELECT pg_try_advisory_lock($1)";
    private static final String WAIT_ON_OWN_BACKEND_SQL = "SELECT CASE WHEN " + ON_OWN_BACKEND
            + " THEN pg_advisory_lock(%1$d) IS NOT NULL END, pg_backend_pid()";
    private static final String TRY_ON_OWN_BACKEND_SQL = "SELECT CASE WHEN " + ON_OWN_BACKEND
            + " THEN pg_try_advisory_lock(%1$d) END, pg_backend_pid()";

    /** The term has begun and the channels are listened to; the lease counts from {@code confirmedAt}. */
    interface Leading {
        void leading(SessionAttempt holder, long term, long confirmedAt);
    }

    private final ElectionOptions options;
    private final Lease lease;
    // what the election hears of an acquisition, on its context, for a session that is still current
    private final Consumer<SessionAttempt> locked;
    private final Leading leading;
    private final BiConsumer<SessionAttempt, String> lost;
    // built now, not on the handover path, where a cold string concatenation costs milliseconds
    private final String leadSql;
    private final String leadOnOwnBackendSql;

    LockAcquisition(ElectionOptions options, Lease lease, Consumer<SessionAttempt> locked, Leading leading,
            BiConsumer<SessionAttempt, String> lost) {
        this.options = options;
        this.lease = lease;
        this.locked = locked;
        this.leading = leading;
        this.lost = lost;
        this.leadSql = options.leadSql();
        this.leadOnOwnBackendSql = leadSql + "; SELECT pg_backend_pid()";
    }

    void acquire(SessionAttempt follower) {
        if (options.acquire() == AcquireStrategy.WAIT) {
            waitForLock(follower);
        } else {
            tryLock(follower);
        }
    }

    private void waitForLock(SessionAttempt follower) {
        // lock_timeout ends the wait on the server; this ends it should the server itself have gone silent
        long silence = options.poll().plus(options.lease()).toMillis();
        long timer = follower.after(silence,
                () -> lost.accept(follower, "no answer from the server within " + silence + "ms"));
        lockQuery(follower, WAIT_SQL, WAIT_ON_OWN_BACKEND_SQL).onComplete(ar -> {
            if (!follower.current()) {
                return;
            }
            follower.cancel(timer);
            if (ar.succeeded()) {
                if (onOwnBackend(follower, ar.result())) {
                    beginTerm(follower);
                }
            } else if (ar.cause() instanceof PgException e && LOCK_NOT_AVAILABLE.equals(e.getSqlState())) {
                waitForLock(follower); // the wait timed out (lock_timeout = poll): check in and wait again
            } else {
                lost.accept(follower, describe(ar.cause()));
            }
        });
    }

    private void tryLock(SessionAttempt follower) {
        lockQuery(follower, TRY_SQL, TRY_ON_OWN_BACKEND_SQL).onComplete(ar -> {
            if (!follower.current()) {
                return;
            }
            if (ar.failed()) {
                lost.accept(follower, describe(ar.cause()));
            } else if (!onOwnBackend(follower, ar.result())) {
                return;
            } else if (ar.result().iterator().next().getBoolean(0)) {
                beginTerm(follower);
            } else {
                follower.after(options.poll().toMillis(), () -> tryLock(follower));
            }
        });
    }

    private Future<RowSet<Row>> lockQuery(SessionAttempt follower, String direct, String onOwnBackend) {
        return follower.proxied
                ? follower.conn.query(String.format(onOwnBackend, options.lock(), follower.backendPid)).execute()
                : follower.conn.preparedQuery(direct).execute(Tuple.of(options.lock()));
    }

    /**
     * Whether a lock statement ran on the session's own backend; if not, the session is reported lost with the cause.
     * Direct sessions always do.
     */
    private boolean onOwnBackend(SessionAttempt follower, RowSet<Row> rows) {
        if (!follower.proxied) {
            return true;
        }
        Row row = rows.iterator().next();
        if (row.getValue(0) != null) {
            return true;
        }
        int pid = row.getInteger(1);
        lost.accept(follower, PoolerCheck.message(pid == follower.backendPid
                ? "its backend (pid " + pid + ") held the election's lock already, for another client"
                : "the session was checked on backend pid " + follower.backendPid + ", its lock statement ran on pid "
                        + pid, options.poolerFix()));
        return false;
    }

    private void beginTerm(SessionAttempt holder) {
        locked.accept(holder);
        // the next term and LISTEN in one simple query: the term's row lock waits for fenced transactions of the
        // previous term to end, and the LISTEN takes effect with it
        long sent = System.nanoTime();
        holder.conn.query(holder.proxied ? leadOnOwnBackendSql : leadSql).execute().onComplete(ar -> {
            if (!holder.current()) {
                return;
            }
            if (ar.failed()) {
                lost.accept(holder, "cannot begin a term in " + options.terms().qualifiedName() + " and listen: "
                        + describe(ar.cause()));
            } else if (holder.proxied && SessionSetup.lastPid(ar.result()) != holder.backendPid) {
                lost.accept(holder, PoolerCheck.message("the session was checked on backend pid " + holder.backendPid
                        + ", its term and LISTENs ran on pid " + SessionSetup.lastPid(ar.result()), options.poolerFix()));
            } else if (lease.tooLate(sent, options.heartbeat())) {
                // fenced transactions held the term up so long that the lease would end before the first heartbeat:
                // confirm the session afresh
                LOG.debugf("Beginning term took longer than lease - heartbeat: confirming the session of lock %d",
                        options.lock());
                confirm(holder, ar.result().iterator().next().getLong(0));
            } else {
                leading.leading(holder, ar.result().iterator().next().getLong(0), sent);
            }
        });
    }

    private void confirm(SessionAttempt holder, long term) {
        long sent = System.nanoTime();
        holder.conn.query("SELECT 1").execute().onComplete(ar -> {
            if (!holder.current()) {
                return;
            }
            if (ar.failed()) {
                lost.accept(holder, describe(ar.cause()));
            } else if (lease.tooLate(sent, options.heartbeat())) {
                lost.accept(holder, "the session was not confirmed well within the lease of " + options.lease());
            } else {
                leading.leading(holder, term, sent);
            }
        });
    }
}
