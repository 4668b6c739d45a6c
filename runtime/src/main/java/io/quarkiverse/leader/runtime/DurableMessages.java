package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.ElectionSettings.property;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;

/**
 * The durable side of one election: where its messages are stored and how they are sent.
 */
final class DurableMessages {

    private static final Logger LOG = Logger.getLogger(DurableMessages.class);

    private final ElectionConfig config;
    private final DatasourcePool pool;
    private final MessageStore store;
    private final DurableSender sender;

    DurableMessages(String election, ElectionConfig config, DatasourcePool pool, ObjectMapper mapper) {
        this.config = config;
        this.pool = pool;
        ElectionConfig.Durable durable = config.durable();
        this.store = new MessageStore(new MessageTable(durable.schema(), durable.table(), durable.function(),
                durable.wakeupChannel(), durable.createTable(), property(election, "durable.create-table")), pool,
                config.sendTimeout());
        this.sender = new DurableSender(mapper, pool, store, durable.maxPayloadSize().asLongValue(),
                property(election, "durable.max-payload-size"), config.sendTimeout(), property(election, "send-timeout"));
    }

    DurableSender sender() {
        return sender;
    }

    /** Durable channels need the message table on every instance: senders store, the leader fetches. */
    void prepareStorage() {
        store.ready().subscribe().with(ok -> LOG.debugf("The durable message table %s is ready",
                store.table().qualifiedName()), e -> LOG.warnf("Durable messages cannot be stored yet: %s",
                        e.getMessage()));
    }
}
