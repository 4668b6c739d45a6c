package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.ElectionSettings.property;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;
import io.vertx.core.Context;

/**
 * The durable side of one election: where its messages are stored, how they are sent, and, on the leader, how they
 * are delivered.
 */
final class DurableMessages {

    private static final Logger LOG = Logger.getLogger(DurableMessages.class);

    private final ElectionConfig config;
    private final DatasourcePool pool;
    private final MessageStore store;
    private final DurableSender sender;
    private final DeadLetters deadLetters;
    private volatile DurableDelivery delivery;

    DurableMessages(String election, ElectionConfig config, DatasourcePool pool, ObjectMapper mapper,
            NotificationMethods methods) {
        this.config = config;
        this.pool = pool;
        ElectionConfig.Durable durable = config.durable();
        this.store = new MessageStore(new MessageTable(durable.schema(), durable.table(), durable.function(),
                durable.wakeupChannel(), durable.wakeupPayload(), durable.createTable(),
                property(election, "durable.create-table"),
                property(election, "durable.function")), pool,
                config.sendTimeout());
        this.sender = new DurableSender(mapper, pool, store, new DurableSender.Checks(
                durable.maxPayloadSize().asLongValue(), property(election, "durable.max-payload-size"),
                methods.plainChannels(), methods.durableChannels().keySet()), config.sendTimeout(),
                property(election, "send-timeout"));
        this.deadLetters = new DeadLetters(store, pool, config.sendTimeout(), property(election, "send-timeout"),
                durable.maxPayloadSize().asLongValue());
    }

    /** Each durable channel's backlog, as the leader last counted it; empty elsewhere. */
    Map<String, Long> backlog() {
        DurableDelivery current = delivery;
        return current == null ? Map.of() : current.backlog();
    }

    DeadLetters deadLetters() {
        return deadLetters;
    }

    DurableSender sender() {
        return sender;
    }

    /** Durable channels need the message table on every instance: senders store, the leader fetches. */
    void prepareStorage() {
        store.ready().subscribe().with(ok -> LOG.debugf("The durable message table %s is ready",
                store.table().qualifiedName()),
                e -> LOG.warnf("Durable messages cannot be stored yet: %s",
                        e.getMessage()));
    }

    /** The leader LISTENs on the plain channels, and on the wake-up channel when there are durable ones. */
    List<String> channels(NotificationMethods methods) {
        if (methods.durable().isEmpty()) {
            return methods.channels();
        }
        TreeSet<String> channels = new TreeSet<>(methods.channels());
        channels.add(config.durable().wakeupChannel());
        return List.copyOf(channels);
    }

    private DurableChannel.Limits limits(NotificationMethod method) {
        return new DurableChannel.Limits(config.durable().batchSize(), config.durable().maxPayloadSize().asLongValue(),
                property(method.election, "durable.max-payload-size"),
                DeliverySettings.of(config.delivery(), method.channel).maxConcurrency());
    }

    /**
     * The delivery of the election's durable channels while it leads: driven from its session's context, each channel
     * run on {@code applicationContext}, a private event-loop context of the application's Vert.x, where its methods
     * are called, so that a message costs no hop between threads on its way to its method.
     */
    DurableDelivery delivery(NotificationMethods methods, ObjectMapper mapper, ElectionSession session,
            Context applicationContext, LeaderMetrics metrics, FencedTransactions fenced) {
        List<DurableChannel> channels = new ArrayList<>();
        ElectionConfig.Durable durable = config.durable();
        MessageAttempts.Policy policy = new MessageAttempts.Policy(durable.retryInitialDelay(), durable.retryMaxDelay(),
                durable.maxAttempts(), durable.callTimeout());
        for (NotificationMethod method : methods.durable()) {
            channels.add(new DurableChannel(method, new MethodCall(method, mapper, applicationContext, session::isLeader),
                    store, pool, applicationContext, session::isLeader, limits(method), config.sendTimeout(), policy,
                    metrics, fenced));
        }
        delivery = new DurableDelivery(channels, durable.wakeupChannel(), session.context(), durable.pollInterval(),
                store::handsOver);
        return delivery;
    }
}
