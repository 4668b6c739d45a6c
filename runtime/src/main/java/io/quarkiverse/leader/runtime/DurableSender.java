package io.quarkiverse.leader.runtime;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.SendTimeoutException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Stores durable messages, from any instance, through the send function: on the datasource's pool, or in the
 * caller's own transaction (an outbox: the message exists if and only if that transaction commits).
 */
final class DurableSender {

    private final ObjectMapper mapper;
    private final DatasourcePool pool;
    private final MessageStore store;
    private final long maxPayloadBytes;
    private final String maxPayloadProperty;
    private final Duration timeout;
    private final String timeoutProperty;

    DurableSender(ObjectMapper mapper, DatasourcePool pool, MessageStore store, long maxPayloadBytes,
            String maxPayloadProperty, Duration timeout, String timeoutProperty) {
        this.mapper = mapper;
        this.pool = pool;
        this.store = store;
        this.maxPayloadBytes = maxPayloadBytes;
        this.maxPayloadProperty = maxPayloadProperty;
        this.timeout = timeout;
        this.timeoutProperty = timeoutProperty;
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
            text = Payloads.encode(mapper, channel, payload);
            validate(channel, text);
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(e);
        }
        return store.ready()
                .chain(() -> (connection != null ? connection : pool.mutiny())
                        .preparedQuery(store.table().sendSql()).execute(Tuple.of(channel, text)))
                .map(rows -> rows.iterator().next().getLong(0))
                .ifNoItem().after(timeout).failWith(() -> new SendTimeoutException("PostgreSQL did not store the"
                        + " durable message on channel '" + channel + "' within " + timeout + " (" + timeoutProperty
                        + ")"));
    }

    private void validate(String channel, String payload) {
        if (payload.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("Durable message payload for channel '" + channel
                    + "' contains a NUL character, which PostgreSQL text cannot hold");
        }
        // a char is at most 3 bytes of UTF-8, so shorter payloads fit without counting
        if ((long) payload.length() * 3 > maxPayloadBytes) {
            int bytes = payload.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > maxPayloadBytes) {
                throw new IllegalArgumentException("Durable message payload for channel '" + channel + "' has " + bytes
                        + " bytes of UTF-8; " + maxPayloadProperty + " allows at most " + maxPayloadBytes);
            }
        }
    }
}
