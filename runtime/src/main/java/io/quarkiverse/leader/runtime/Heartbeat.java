package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.SessionSetup.describe;

import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

import io.vertx.sqlclient.Row;

/**
 * Confirms the leader's session every heartbeat, renewing its lease, and reports the session lost when a confirmation
 * fails or the lease runs out unconfirmed. While the leader steps down or leaves it keeps the session busy only, so
 * that no follower takes it for hung.
 */
final class Heartbeat {

    /**
     * The backend's pid, which shows a pooler that moves the session between backends, and whether the server has
     * become read-only since the session opened (default_transaction_read_only set and reloaded, as before a planned
     * switchover): a leader there could no longer begin a term, while an instance may lead on the new primary.
     */
    static final String SQL = "SELECT pg_backend_pid(), current_setting('transaction_read_only')::bool";

    private final ElectionOptions options;
    private final Lease lease;
    private final BooleanSupplier leading;
    private final BiConsumer<SessionAttempt, String> lost;

    Heartbeat(ElectionOptions options, Lease lease, BooleanSupplier leading, BiConsumer<SessionAttempt, String> lost) {
        this.options = options;
        this.lease = lease;
        this.leading = leading;
        this.lost = lost;
    }

    /** Starts beating on the leader's session; its timers end with the session attempt. */
    void start(SessionAttempt leader) {
        leader.every(options.heartbeat().toMillis(), () -> beat(leader));
        leader.after(lease.remainingMillis(), () -> checkLease(leader));
    }

    private void beat(SessionAttempt leader) {
        if (!leader.beginHeartbeat()) {
            return; // the previous confirmation is still out: the lease decides
        }
        long sent = System.nanoTime();
        // behind a pooler or proxy, also whether the backend still holds the lock, which another of the pooler's
        // clients could release
        leader.conn.query(leader.proxied ? OwnBackend.heartbeatSql(options.lock(), leader.backendPid) : SQL)
                .execute().onComplete(ar -> {
                    if (!leader.current()) {
                        return;
                    }
                    leader.heartbeatAnswered();
                    Row row = ar.succeeded() ? ar.result().iterator().next() : null;
                    if (ar.failed()) {
                        lost.accept(leader, describe(ar.cause()));
                    } else if (row.getInteger(0) != leader.backendPid) {
                        lost.accept(leader, PoolerCheck.message("the session was checked on backend pid " + leader.backendPid
                                + ", its heartbeat ran on pid " + row.getInteger(0), options.poolerFix()));
                    } else if (leading.getAsBoolean() && row.getBoolean(1)) {
                        lost.accept(leader, "the server has become read-only (transaction_read_only is on): a leader"
                                + " must be able to write its term, and another host may be the primary now");
                    } else if (leader.proxied && leading.getAsBoolean() && !row.getBoolean(2)) {
                        lost.accept(leader, "its backend (pid " + leader.backendPid + ") no longer holds the lock: another"
                                + " client of the pooler or proxy in front of PostgreSQL released it");
                    } else if (leading.getAsBoolean() && !lease.valid()) {
                        // the answer came after the lease ran out (a stalled event loop): leadership has ended already
                        lost.accept(leader, "its lease of " + options.lease() + " ran out before the heartbeat was answered");
                    } else if (leading.getAsBoolean()) {
                        lease.confirm(sent);
                    }
                });
    }

    /** Fires when the lease would run out: reports it lost if no heartbeat renewed it, or checks again when it would. */
    private void checkLease(SessionAttempt leader) {
        if (!leading.getAsBoolean()) {
            return;
        }
        if (lease.valid()) {
            leader.after(lease.remainingMillis(), () -> checkLease(leader));
        } else {
            lost.accept(leader, "its lease of " + options.lease() + " ran out unconfirmed");
        }
    }
}
