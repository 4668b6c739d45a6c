package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Routes the leader's notifications to the {@code @OnLeaderNotification} methods of their channel. Called on the
 * election's context, where its queues live; each method has its own queue, so an ordered method sees one notification at a time.
 */
final class NotificationDispatcher {

    private static final Logger LOG = Logger.getLogger(NotificationDispatcher.class);

    private final String election;
    private final Context context;
    private final BooleanSupplier leading;
    private final LeaderMetrics metrics;
    private final Map<String, List<Handler>> byChannel = new HashMap<>();
    private final List<Promise<Void>> drainWaiters = new ArrayList<>();
    private int inFlight;

    NotificationDispatcher(String election, List<NotificationMethod> methods, ObjectMapper mapper, Context context,
            Context applicationContext, BooleanSupplier leading, LeaderMetrics metrics) {
        this.election = election;
        this.context = context;
        this.leading = leading;
        this.metrics = metrics;
        for (NotificationMethod method : methods) {
            byChannel.computeIfAbsent(method.channel, c -> new ArrayList<>())
                    .add(new Handler(method, new MethodCall(method, mapper, applicationContext, leading)));
        }
    }

    void dispatch(String channel, String payload) {
        List<Handler> handlers = byChannel.get(channel);
        if (handlers == null) { // the leader LISTENs only on the channels of its methods: not expected
            LOG.debugf("Ignored a notification on channel '%s', which no method handles", channel);
            return;
        }
        metrics.received(election, channel);
        boolean leads = leading.getAsBoolean(); // once per notification, not per method
        for (Handler handler : handlers) {
            if (leads) {
                handler.offer(payload);
            } else { // still listening while it steps down or leaves, and no one else listens yet: lost, and counted
                metrics.dropped(election, channel, handler.method.description, DropReason.NOT_LEADER, 1);
            }
        }
    }

    /** Leadership is lost: what is queued must not run, even if this instance leads again soon. */
    void discardQueued() {
        for (List<Handler> handlers : byChannel.values()) { // plain loops: no lambda to link on the step-down path
            for (Handler handler : handlers) {
                handler.discardQueued();
            }
        }
    }

    /** Completes when no handler runs any more, or after {@code timeout}. */
    Future<Void> drain(Duration timeout) {
        if (inFlight == 0) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        drainWaiters.add(done);
        long timer = context.owner().setTimer(Math.max(1, timeout.toMillis()), id -> {
            if (done.tryComplete()) {
                LOG.warnf("%d notification handler(s) still running after %s; releasing the lock anyway", inFlight,
                        timeout);
            }
        });
        return done.future().onComplete(ar -> context.owner().cancelTimer(timer));
    }

    private void finished() {
        if (--inFlight == 0) {
            drainWaiters.forEach(Promise::tryComplete);
            drainWaiters.clear();
        }
    }

    /** One method's queue. */
    private final class Handler {
        private final NotificationMethod method;
        private final MethodCall call;
        private final ArrayDeque<String> queue = new ArrayDeque<>();
        private boolean busy;

        Handler(NotificationMethod method, MethodCall call) {
            this.method = method;
            this.call = call;
        }

        void offer(String payload) {
            if (!method.ordered) {
                run(payload);
                return;
            }
            queue.add(payload);
            if (!busy) {
                next();
            }
        }

        private void next() {
            String payload = queue.poll();
            if (payload == null) {
                return;
            }
            if (!leading.getAsBoolean()) {
                queue.addFirst(payload);
                discardQueued();
                return;
            }
            busy = true;
            run(payload);
        }

        private void run(String payload) {
            inFlight++;
            long started = System.nanoTime();
            // the payload is read where the method runs, never on the election's event loop
            call.run(payload).whenComplete((outcome, failure) -> context.runOnContext(v -> {
                if (outcome == MethodCall.SKIPPED) {
                    metrics.dropped(method.election, method.channel, method.description, DropReason.NOT_LEADER, 1);
                } else {
                    metrics.handled(method.election, method.channel, method.description, System.nanoTime() - started,
                            failure != null);
                }
                if (failure instanceof MethodCall.InvalidPayloadException invalid) {
                    LOG.errorf("Notification on channel '%s' not passed to %s: its payload is not a valid %s (%s);"
                            + " payload: %s", method.channel, method.description, method.payloadType,
                            invalid.getCause().getMessage(), abbreviate(payload));
                } else if (failure != null) {
                    LOG.errorf(failure, "%s failed on a notification on channel '%s'; the next notification is still handled",
                            method.description, method.channel);
                }
                finished();
                done();
            }));
        }

        void discardQueued() {
            if (!queue.isEmpty()) {
                LOG.warnf("Dropped %d queued notification(s) for %s: this instance no longer leads", queue.size(),
                        method.description);
                metrics.dropped(method.election, method.channel, method.description, DropReason.NOT_LEADER,
                        queue.size());
                queue.clear();
            }
        }

        private void done() {
            if (method.ordered) {
                busy = false;
                next();
            }
        }
    }

    private static String abbreviate(String payload) {
        return payload.length() <= 200 ? payload : payload.substring(0, 200) + "...";
    }
}
