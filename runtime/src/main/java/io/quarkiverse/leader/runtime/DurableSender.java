package io.quarkiverse.leader.runtime;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.SendTimeoutException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Stores durable messages, from any instance, through the send function: on the datasource's pool, or in the
 * caller's own transaction (an outbox: the message exists if and only if that transaction commits).
 */
final class DurableSender {

    private static final Logger LOG = Logger.getLogger(DurableSender.class);

    /**
     * What a message is checked against before it is sent.
     *
     * @param maxPayloadBytes the largest payload, in bytes of UTF-8
     * @param maxPayloadProperty the setting of {@code maxPayloadBytes}, named when a payload is larger
     * @param plainChannels the election's plain channels, each with its methods: a message stored there is never read
     * @param durableChannels the election's durable channels
     */
    record Checks(long maxPayloadBytes, String maxPayloadProperty, Map<String, String> plainChannels,
            Set<String> durableChannels) {
    }

    private final ObjectMapper mapper;
    private final DatasourcePool pool;
    private final MessageStore store;
    private final Checks checks;
    private final Duration timeout;
    private final String timeoutProperty;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    private final SendBatches batches;

    DurableSender(ObjectMapper mapper, DatasourcePool pool, MessageStore store, Checks checks, Duration timeout,
            String timeoutProperty) {
        this.mapper = mapper;
        this.pool = pool;
        this.store = store;
        this.checks = checks;
        this.timeout = timeout;
        this.timeoutProperty = timeoutProperty;
        this.batches = new SendBatches(pool, store, timeout.dividedBy(4), pool::freshContext);
    }

    /** Stores the message in a transaction of its own; the id once it has committed. */
    Uni<Long> send(String channel, Object payload) {
        return send(null, channel, payload);
    }

    /** Stores the message in the transaction of {@code connection}: an outbox. */
    Uni<Long> sendIn(SqlConnection connection, String channel, Object payload) {
        if (connection == null) {
            return Uni.createFrom().failure(new IllegalArgumentException("send(connection, channel, payload) needs the"
                    + " connection of the caller's transaction; use send(channel, payload) without one"));
        }
        return send(connection, channel, payload);
    }

    /** Stores the message on {@code connection} (the pool when {@code null}); committed with its transaction. */
    private Uni<Long> send(SqlClient connection, String channel, Object payload) {
        String text;
        try {
            Channels.validateChannel(channel);
            checkChannel(channel);
            text = Payloads.encode(mapper, channel, payload);
            validate(channel, text);
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(e);
        }
        // the caller's context as it sends, before the storage check may move it elsewhere
        return Uni.createFrom().deferred(() -> {
            Context callers = Vertx.currentContext();
            return store.ready()
                    // the caller's own connection is the caller's to choose; the pool's may reach a standby
                    .chain(() -> connection != null
                            ? connection.preparedQuery(store.table().sendSql()).execute(Tuple.of(channel, text))
                                    .map(rows -> rows.iterator().next().getLong(0))
                            : batches.send(channel, text, callers));
        })
                .ifNoItem().after(timeout).failWith(() -> new SendTimeoutException("PostgreSQL did not store the"
                        + " durable message on channel '" + channel + "' within " + timeout + " (" + timeoutProperty
                        + ")"));
    }

    /**
     * A message on a plain channel would be stored and never read: refused. One on a channel that no durable method of
     * this application declares may be for another application; a typo is likelier when this one declares others.
     */
    private void checkChannel(String channel) {
        String plain = checks.plainChannels().get(channel);
        if (plain != null && !checks.durableChannels().contains(channel)) {
            throw new IllegalArgumentException("Channel '" + channel + "' is a plain notification channel (" + plain
                    + " is declared with @OnLeaderNotification without durable = true): a durable message on it would"
                    + " never be handed to a method; notify it with LeaderElection.notify(\"" + channel
                    + "\", payload), or declare the method durable");
        }
        if (!checks.durableChannels().isEmpty() && !checks.durableChannels().contains(channel)
                && warned.size() < 100 && warned.add(channel)) {
            LOG.warnf("No @OnLeaderNotification(durable = true) method of this application declares channel '%s'"
                    + " (its durable channels are %s): its messages wait in the table for an application that does",
                    channel, checks.durableChannels());
        }
    }

    private void validate(String channel, String payload) {
        if (payload.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("Durable message payload for channel '" + channel
                    + "' contains a NUL character, which PostgreSQL text cannot hold");
        }
        // a char is at most 3 bytes of UTF-8, so shorter payloads fit without counting
        if ((long) payload.length() * 3 > checks.maxPayloadBytes()) {
            int bytes = payload.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > checks.maxPayloadBytes()) {
                throw new IllegalArgumentException("Durable message payload for channel '" + channel + "' has " + bytes
                        + " bytes of UTF-8; " + checks.maxPayloadProperty() + " allows at most " + checks.maxPayloadBytes());
            }
        }
    }
}
