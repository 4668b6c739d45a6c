package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * The durable channels of one election on the leader: started when leadership begins (draining the backlog), woken by
 * the send function's notification at each commit and by a periodic check should a wake-up be missed, stopped at
 * step-down. Called on the election's context; the channels run on a private event-loop context of the application's
 * Vert.x.
 */
final class DurableDelivery {

    private static final Logger LOG = Logger.getLogger(DurableDelivery.class);
    private static final long DRAIN_CHECK_MILLIS = 5;
    /** The leader counts each durable channel's backlog at every tenth poll: a count reads up to COUNT_LIMIT entries. */
    static final long COUNT_EVERY_POLLS = 10;

    private final Map<String, DurableChannel> byChannel = new TreeMap<>();
    private final String wakeupChannel;
    private final Context context;
    private final Duration pollInterval;
    private final BooleanSupplier handOver;
    private long pollTimer = -1;

    /** {@code handOver}: whether a message that rides in its wake-up goes to its method from there, unfetched. */
    DurableDelivery(List<DurableChannel> channels, String wakeupChannel, Context context, Duration pollInterval,
            BooleanSupplier handOver) {
        channels.forEach(c -> byChannel.put(c.channel(), c));
        this.wakeupChannel = wakeupChannel;
        this.context = context;
        this.pollInterval = pollInterval;
        this.handOver = handOver;
        // links the drain's callbacks now: their first use is otherwise on the hand-over path, which linking would slow
        context.runOnContext(v -> drain(Duration.ZERO));
    }

    boolean isWakeup(String channel) {
        return wakeupChannel.equals(channel);
    }

    /**
     * A message committed: {@code wakeup} names its channel, or carries the message itself (see {@link WakeupMessage}).
     * Channels of other elections sharing the table are not ours.
     */
    void wake(String wakeup) {
        if (pollTimer < 0) {
            return; // not leading: start() fetches what commits until then
        }
        DurableChannel durable = byChannel.get(wakeup);
        if (durable != null) {
            durable.wake();
            return;
        }
        WakeupMessage carried = WakeupMessage.parse(wakeup);
        if (carried == null) {
            if (WakeupMessage.carriesMessage(wakeup)) { // unreadable (another version's?): whose it is, only a fetch tells
                byChannel.values().forEach(DurableChannel::wake);
            }
            return;
        }
        durable = byChannel.get(carried.channel());
        if (durable == null) {
            return; // another election's
        }
        if (handOver.getAsBoolean()) {
            durable.offer(carried);
        } else {
            durable.wake();
        }
    }

    void start() {
        stop();
        for (DurableChannel channel : byChannel.values()) {
            channel.start();
            channel.countBacklog();
        }
        long[] polls = { 0 };
        // set on the election's context, so the timer fires there
        pollTimer = context.owner().setPeriodic(Math.max(1, pollInterval.toMillis()), id -> {
            boolean count = ++polls[0] % COUNT_EVERY_POLLS == 0;
            for (DurableChannel channel : byChannel.values()) {
                channel.wake();
                if (count) {
                    channel.countBacklog();
                }
            }
        });
    }

    /** Each channel's backlog as last counted while leading; empty on an instance that does not lead. */
    Map<String, Long> backlog() {
        Map<String, Long> backlog = new TreeMap<>();
        byChannel.forEach((name, channel) -> {
            double count = channel.backlog();
            if (!Double.isNaN(count)) {
                backlog.put(name, (long) count);
            }
        });
        return backlog;
    }

    /**
     * Completes, on the election's context, once no call and no acknowledgement is under way, or after
     * {@code timeout}: a leader that leaves lets them finish before it unlocks, so that its successor does not hand the
     * same messages over meanwhile. The channels run on their own event-loop context: it looks there, every few
     * milliseconds.
     */
    Future<Void> drain(Duration timeout) {
        if (byChannel.isEmpty()) {
            return Future.succeededFuture();
        }
        Context channels = byChannel.values().iterator().next().context(); // one for all of the election's channels
        Promise<Void> drained = Promise.promise();
        long deadline = System.nanoTime() + timeout.toNanos();
        // bounded on the election's own loop too, should the channels' have stopped taking tasks
        long bound = context.owner().setTimer(timeout.toMillis() + 1, id -> drained.tryComplete());
        drained.future().onComplete(done -> context.owner().cancelTimer(bound)); // a drain that ended early
        channels.runOnContext(start -> {
            if (idle()) {
                context.runOnContext(v -> drained.tryComplete());
                return;
            }
            channels.owner().setPeriodic(DRAIN_CHECK_MILLIS, id -> { // set from the channels' context: it fires there
                boolean idle = idle();
                if (idle || System.nanoTime() - deadline > 0) {
                    channels.owner().cancelTimer(id);
                    if (!idle) {
                        LOG.warnf("Durable methods still running after %s; releasing the lock anyway: their messages"
                                + " are handed over again by the next leader", timeout);
                    }
                    context.runOnContext(v -> drained.tryComplete());
                }
            });
        });
        return drained.future();
    }

    /** On the channels' context. */
    private boolean idle() {
        for (DurableChannel channel : byChannel.values()) {
            if (!channel.idle()) {
                return false;
            }
        }
        return true;
    }

    void stop() {
        if (pollTimer >= 0) {
            context.owner().cancelTimer(pollTimer);
            pollTimer = -1;
        }
        for (DurableChannel channel : byChannel.values()) {
            channel.stop();
        }
    }
}
