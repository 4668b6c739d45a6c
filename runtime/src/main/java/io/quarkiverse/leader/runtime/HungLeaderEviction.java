package io.quarkiverse.leader.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

/**
 * Ends the session of a leader that holds the lock but has stopped confirming it (a paused process, a blocked event
 * loop, a network that swallows its packets). Such a leader has already stopped believing it leads: its lease is
 * shorter than the silence that triggers eviction.
 */
final class HungLeaderEviction {

    private static final Logger LOG = Logger.getLogger(HungLeaderEviction.class);

    private final Context context;
    private final Supplier<Pool> pool;
    private final ElectionOptions options;
    private final BooleanSupplier leading;
    private final long thresholdMillis;
    private final AtomicBoolean checking = new AtomicBoolean();
    private boolean permissionWarned;
    private long timer = -1;

    HungLeaderEviction(Context context, Supplier<Pool> pool, ElectionOptions options, BooleanSupplier leading) {
        this.context = context;
        this.pool = pool;
        this.options = options;
        this.leading = leading;
        this.thresholdMillis = options.evictionThreshold().toMillis();
    }

    void start() {
        context.runOnContext(v -> timer = context.owner().setPeriodic(options.heartbeat().toMillis(), id -> check()));
    }

    void stop() {
        context.runOnContext(v -> context.owner().cancelTimer(timer));
    }

    private void check() {
        if (leading.getAsBoolean() || !checking.compareAndSet(false, true)) {
            return;
        }
        LockHolder.find(pool.get(), options.lock())
                .compose(holder -> holder.filter(h -> h.idle() && h.silentMillis() > thresholdMillis)
                        .map(h -> evict(h.pid(), h.applicationName(), h.silentMillis()))
                        .orElse(Future.succeededFuture()))
                .onComplete(ar -> {
                    checking.set(false);
                    if (ar.failed()) {
                        LOG.debugf("Check for a hung leader failed: %s", ar.cause().getMessage());
                    }
                });
    }

    private Future<Void> evict(int pid, String applicationName, long silentMillis) {
        return pool.get().preparedQuery("SELECT pg_terminate_backend($1)").execute(Tuple.of(pid))
                .<Void> map(rows -> {
                    LOG.warnf("Instance %s ended the session of the hung leader %s (pid %d): silent for %d ms, longer than"
                            + " lease + heartbeat (%d ms)", options.instanceId(), applicationName, pid, silentMillis,
                            thresholdMillis);
                    return null;
                })
                .recover(failure -> {
                    if (failure instanceof PgException e && "42501".equals(e.getSqlState()) && !permissionWarned) {
                        permissionWarned = true;
                        LOG.warnf("Instance %s cannot end the session of the hung leader %s (pid %d): %s. Grant the role"
                                + " pg_signal_backend, or run every instance as the same user; until then a hung leader"
                                + " keeps the lock until PostgreSQL drops its session", options.instanceId(),
                                applicationName, pid, e.getErrorMessage());
                    }
                    return Future.failedFuture(failure);
                });
    }
}
