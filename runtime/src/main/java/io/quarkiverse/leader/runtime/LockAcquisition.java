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

    private static final String WAIT_SQL = "SELECT pg_advisory_lock($1)";
    private static final String TRY_SQL = "SELECT pg_try_advisory_lock($1)";
    /** A wait bounded by its own {@code lock_timeout} ($2), for this statement alone. */
    private static final String BRIEF_SQL = "SELECT pg_advisory_lock(CASE WHEN set_config('lock_timeout', $2, true)"
            + " IS NOT NULL THEN $1::bigint END) IS NOT NULL";

    /** The term has begun and the channels are listened to; the lease counts from {@code confirmedAt}. */
    interface Leading {
        void leading(SessionAttempt holder, long term, long confirmedAt);
    }

    private final ElectionOptions options;
    private final Lease lease;
    private final HungLeaderEviction eviction; // null when evict-hung-leader is off
    // what the election hears of an acquisition, on its context, for a session that is still current
    private final Consumer<SessionAttempt> locked;
    private final Leading leading;
    private final BiConsumer<SessionAttempt, String> lost;
    // built now, not on the handover path, where a cold string concatenation costs milliseconds
    private final String leadSql;
    private final String briefTimeout;

    LockAcquisition(ElectionOptions options, Lease lease, HungLeaderEviction eviction, Consumer<SessionAttempt> locked,
            Leading leading, BiConsumer<SessionAttempt, String> lost) {
        this.options = options;
        this.lease = lease;
        this.eviction = eviction;
        this.locked = locked;
        this.leading = leading;
        this.lost = lost;
        this.leadSql = options.leadSql();
        this.briefTimeout = options.heartbeat().toMillis() + "ms";
    }

    void acquire(SessionAttempt follower) {
        if (options.acquire() == AcquireStrategy.WAIT) {
            waitForLock(follower, eviction != null ? Wait.LOOKING : Wait.PLAIN);
        } else {
            tryLock(follower);
        }
    }

    /** How a follower's statement waits for the lock. */
    private enum Wait {
        /** Looks for a hung holder first, and waits until the next look is due. */
        LOOKING,
        /**
         * For a heartbeat, without looking: the look just ended the holder, which may not have gone yet; should another
         * waiter be granted the lock meanwhile, the looks go on at the new holder.
         */
        BRIEFLY,
        /** Until {@code lock_timeout}, the {@code poll}. */
        PLAIN
    }

    private void waitForLock(SessionAttempt follower, Wait wait) {
        boolean look = wait == Wait.LOOKING;
        // lock_timeout ends the wait on the server; this ends it should the server itself have gone silent
        long silence = options.poll().plus(options.lease()).toMillis();
        long timer = follower.after(silence,
                () -> lost.accept(follower, "no answer from the server within " + silence + "ms"));
        Future<RowSet<Row>> statement = wait == Wait.BRIEFLY ? waitBriefly(follower) : lockQuery(follower, true, look);
        statement.onComplete(ar -> {
            if (!follower.current()) {
                return;
            }
            follower.cancel(timer);
            if (ar.succeeded()) {
                Row row = ar.result().iterator().next();
                if (look) {
                    eviction.outcome(row);
                }
                if (look && HungLeaderEviction.skipped(row)) {
                    // the look ended the holder or had something to say: wait now, without looking again at a holder
                    // that may not have gone yet, and look again after a heartbeat, should another waiter be granted
                    waitForLock(follower, Wait.BRIEFLY);
                } else if (onOwnBackend(follower, row)) {
                    beginTerm(follower);
                }
            } else if (ar.cause() instanceof PgException e && LOCK_NOT_AVAILABLE.equals(e.getSqlState())) {
                // the wait timed out (lock_timeout: the next look, a heartbeat, or poll): check in and wait again
                waitForLock(follower, eviction != null ? Wait.LOOKING : Wait.PLAIN);
            } else if (look && lookFailed(ar.cause())) {
                waitForLock(follower, Wait.PLAIN);
            } else {
                lost.accept(follower, describe(ar.cause()));
            }
        });
    }

    private void tryLock(SessionAttempt follower) {
        boolean look = eviction != null;
        lockQuery(follower, false, look).onComplete(ar -> {
            if (!follower.current()) {
                return;
            }
            if (ar.failed() && look && lookFailed(ar.cause())) {
                follower.after(options.poll().toMillis(), () -> tryLock(follower));
                return;
            }
            if (ar.failed()) {
                lost.accept(follower, describe(ar.cause()));
                return;
            }
            Row row = ar.result().iterator().next();
            if (look) {
                eviction.outcome(row);
            }
            boolean skipped = look && HungLeaderEviction.skipped(row);
            if (!skipped && !onOwnBackend(follower, row)) {
                return;
            } else if (!skipped && row.getBoolean(0)) {
                beginTerm(follower);
            } else {
                // the next try comes with the next look, when that is sooner than the poll
                long next = look ? Math.min(options.poll().toMillis(), eviction.nextMillis(row)) : options.poll().toMillis();
                follower.after(next, () -> tryLock(follower));
            }
        });
    }

    /**
     * Whether a lock statement failed because of its look for a hung leader rather than its session: an error the
     * server answered with (the session goes on) costs the follower its look, not its place in the election.
     */
    private boolean lookFailed(Throwable failure) {
        if (failure instanceof PgException e && "ERROR".equals(e.getSeverity())) {
            eviction.failed(failure);
            return true;
        }
        return false;
    }

    /** A wait for the lock without a look, for a heartbeat: see {@link Wait#BRIEFLY}. */
    private Future<RowSet<Row>> waitBriefly(SessionAttempt follower) {
        if (follower.proxied) {
            return follower.conn.query(OwnBackend.waitSql(options.lock(), follower.backendPid,
                    options.heartbeat().toMillis())).execute();
        }
        return follower.conn.preparedQuery(BRIEF_SQL).execute(Tuple.of(options.lock(), briefTimeout));
    }

    private Future<RowSet<Row>> lockQuery(SessionAttempt follower, boolean wait, boolean look) {
        if (look) {
            return eviction.lock(wait, follower);
        }
        if (follower.proxied) {
            int pid = follower.backendPid;
            return follower.conn.query(wait ? OwnBackend.waitSql(options.lock(), pid)
                    : OwnBackend.trySql(options.lock(), pid)).execute();
        }
        return follower.conn.preparedQuery(wait ? WAIT_SQL : TRY_SQL).execute(Tuple.of(options.lock()));
    }

    /**
     * Whether a lock statement ran on the session's own backend; if not, the session is reported lost with the cause.
     * Direct sessions always do.
     */
    private boolean onOwnBackend(SessionAttempt follower, Row row) {
        if (!follower.proxied) {
            return true;
        }
        if (row.getValue(0) != null) {
            return true;
        }
        int pid = row.getInteger(1);
        lost.accept(follower, PoolerCheck.message(pid == follower.backendPid
                ? "its backend (pid " + pid + ") held the election's lock already, for another client (or, in session"
                        + " mode, for a session that has gone: keep the pooler's server_reset_query, DISCARD ALL, which"
                        + " releases it)"
                : "the session was checked on backend pid " + follower.backendPid + ", its lock statement ran on pid "
                        + pid,
                options.poolerFix()));
        return false;
    }

    private void beginTerm(SessionAttempt holder) {
        locked.accept(holder);
        // the next term and LISTEN in one simple query: the term's row lock waits for fenced transactions of the
        // previous term to end, and the LISTEN takes effect with it
        long sent = System.nanoTime();
        // behind a pooler or proxy, a guard first: the term must not begin, nor the LISTENs take effect, elsewhere
        String sql = holder.proxied ? OwnBackend.guardSql(options.lock(), holder.backendPid) + "; " + leadSql : leadSql;
        holder.conn.query(sql).execute().onComplete(ar -> {
            if (!holder.current()) {
                return;
            }
            if (ar.failed()) {
                lost.accept(holder, notOwnBackend(holder, ar.cause()) ? ownBackendLost(holder, "its term's statement")
                        : "cannot begin a term in " + options.terms().qualifiedName() + " and listen: "
                                + describe(ar.cause()));
                return;
            }
            long term = (holder.proxied ? ar.result().next() : ar.result()).iterator().next().getLong(0);
            if (lease.tooLate(sent, options.heartbeat())) {
                // fenced transactions held the term up so long that the lease would end before the first heartbeat:
                // confirm the session afresh
                LOG.debugf("Beginning term took longer than lease - heartbeat: confirming the session of lock %d",
                        options.lock());
                confirm(holder, term);
            } else {
                leading.leading(holder, term, sent);
            }
        });
    }

    private static boolean notOwnBackend(SessionAttempt holder, Throwable failure) {
        return holder.proxied && failure instanceof PgException e && e.getErrorMessage() != null
                && e.getErrorMessage().contains(OwnBackend.NOT_OWN_TEXT);
    }

    private String ownBackendLost(SessionAttempt holder, String what) {
        return PoolerCheck.message(what + " ran on another backend than pid " + holder.backendPid
                + ", or that backend no longer holds the lock", options.poolerFix());
    }

    private void confirm(SessionAttempt holder, long term) {
        long sent = System.nanoTime();
        String sql = holder.proxied ? OwnBackend.guardSql(options.lock(), holder.backendPid) : "SELECT 1";
        holder.conn.query(sql).execute().onComplete(ar -> {
            if (!holder.current()) {
                return;
            }
            if (ar.failed()) {
                lost.accept(holder, notOwnBackend(holder, ar.cause()) ? ownBackendLost(holder, "its confirmation")
                        : describe(ar.cause()));
            } else if (lease.tooLate(sent, options.heartbeat())) {
                lost.accept(holder, "the session was not confirmed well within the lease of " + options.lease());
            } else {
                leading.leading(holder, term, sent);
            }
        });
    }
}
