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
 * Ends the session of a leader that holds the lock in the election's database but has stopped confirming it (a paused
 * process, a blocked event loop, a network that swallows its packets). Such a leader has already stopped believing it
 * leads: its lease is shorter than the silence that triggers eviction.
 */
final class HungLeaderEviction {

    private static final Logger LOG = Logger.getLogger(HungLeaderEviction.class);

    /** pg_terminate_backend of a session this role may not end. */
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

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
        if (leading.getAsBoolean() || !checking.compareAndSet(false, true)) {
            return;
        }
        LockHolder.find(pool.get(), options.lock())
                .compose(holder -> holder.map(this::consider).orElse(Future.succeededFuture()))
                .onComplete(ar -> {
                    checking.set(false);
                    if (ar.failed()) {
                        LOG.debugf("Check for a hung leader failed: %s", ar.cause().getMessage());
                    }
                });
    }

    private Future<Void> consider(LockHolder holder) {
        if (!holder.visible()) {
            return privileges.check(); // a session of another role whose state this role may not read: skipped
        }
        return holder.idle() && holder.silentMillis() > thresholdMillis ? evict(holder) : Future.succeededFuture();
    }

    private Future<Void> evict(LockHolder holder) {
        return pool.get().preparedQuery("SELECT pg_terminate_backend($1)").execute(Tuple.of(holder.pid()))
                .<Void> map(rows -> {
                    if (Boolean.TRUE.equals(rows.iterator().next().getBoolean(0))) {
                        LOG.warnf("Instance %s ended the session of the hung leader %s (pid %d): silent for %d ms,"
                                + " longer than lease + heartbeat (%d ms)", options.instanceId(),
                                holder.applicationName(), holder.pid(), holder.silentMillis(), thresholdMillis);
                    }
                    return null;
                })
                .recover(failure -> failure instanceof PgException e && INSUFFICIENT_PRIVILEGE.equals(e.getSqlState())
                        ? privileges.check().transform(ar -> Future.failedFuture(failure))
                        : Future.failedFuture(failure));
    }
}
