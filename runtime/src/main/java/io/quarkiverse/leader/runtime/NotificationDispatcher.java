package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.vertx.core.Context;
import io.vertx.core.Future;

/**
 * Routes the leader's notifications to the {@code @OnLeaderNotification} methods of their channel, each through its
 * own {@link MethodDelivery}. Called on the election's context, where the mailboxes live.
 */
final class NotificationDispatcher {

    private static final Logger LOG = Logger.getLogger(NotificationDispatcher.class);

    private final String election;
    private final BooleanSupplier leading;
    private final LeaderMetrics metrics;
    private final InFlightCalls inFlight;
    private final Map<String, List<MethodDelivery>> byChannel = new HashMap<>();

    NotificationDispatcher(String election, List<NotificationMethod> methods, DeliveryConfig delivery,
            ObjectMapper mapper, Context context, Context applicationContext, BooleanSupplier leading,
            LeaderMetrics metrics) {
        this.election = election;
        this.leading = leading;
        this.metrics = metrics;
        this.inFlight = new InFlightCalls(context);
        for (NotificationMethod method : methods) {
            byChannel.computeIfAbsent(method.channel, c -> new ArrayList<>())
                    .add(new MethodDelivery(method, new MethodCall(method, mapper, applicationContext, leading),
                            DeliverySettings.of(delivery, method.channel), context, leading, metrics, inFlight));
        }
    }

    void dispatch(String channel, String payload) {
        List<MethodDelivery> deliveries = byChannel.get(channel);
        if (deliveries == null) { // the leader LISTENs only on the channels of its methods: not expected
            LOG.debugf("Ignored a notification on channel '%s', which no method handles", channel);
            return;
        }
        metrics.received(election, channel);
        boolean leads = leading.getAsBoolean(); // once per notification, not per method
        for (MethodDelivery delivery : deliveries) {
            if (leads) {
                delivery.offer(payload);
            } else { // still listening while it steps down or leaves, and no one else listens yet: lost, and counted
                metrics.dropped(election, channel, delivery.method().description, DropReason.NOT_LEADER, 1);
            }
        }
    }

    /** Leadership is lost: what waits must not run, even if this instance leads again soon; the next term starts afresh. */
    void endTerm() {
        for (List<MethodDelivery> deliveries : byChannel.values()) { // plain loops: no lambda to link on the step-down path
            for (MethodDelivery delivery : deliveries) {
                delivery.endTerm();
            }
        }
    }

    /** Completes when no handler runs any more, or after {@code timeout}. */
    Future<Void> drain(Duration timeout) {
        return inFlight.drained(timeout);
    }
}
