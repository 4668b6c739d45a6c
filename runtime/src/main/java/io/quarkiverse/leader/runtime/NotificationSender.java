package io.quarkiverse.leader.runtime;

import java.time.Duration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.SendTimeoutException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Sends plain notifications through the datasource's pool, from any instance: the payload a bound parameter of
 * {@code pg_notify}, never SQL text.
 */
final class NotificationSender {

    private final ObjectMapper mapper;
    private final DatasourcePool pool;
    private final Duration timeout;
    private final String timeoutProperty;

    NotificationSender(ObjectMapper mapper, DatasourcePool pool, Duration timeout, String timeoutProperty) {
        this.mapper = mapper;
        this.pool = pool;
        this.timeout = timeout;
        this.timeoutProperty = timeoutProperty;
    }

    Uni<Void> notify(String channel, Object payload) {
        String text;
        try {
            Channels.validateChannel(channel);
            text = encode(channel, payload);
            Channels.validatePayload(channel, text);
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(e);
        }
        return Uni.createFrom().deferred(() -> pool.mutiny().preparedQuery("SELECT pg_notify($1, $2)")
                .execute(Tuple.of(channel, text)).replaceWithVoid())
                .ifNoItem().after(timeout).failWith(() -> new SendTimeoutException("PostgreSQL did not accept the"
                        + " notification on channel '" + channel + "' within " + timeout + " (" + timeoutProperty + ")"));
    }

    private String encode(String channel, Object payload) {
        if (payload == null) {
            throw new IllegalArgumentException("Notification payload for channel '" + channel
                    + "' is null; send a String, a JSON value or an object Jackson can serialise");
        }
        if (payload instanceof String s) {
            return s;
        }
        if (payload instanceof JsonObject json) {
            return json.encode();
        }
        if (payload instanceof JsonArray json) {
            return json.encode();
        }
        try {
            return mapper.writeValueAsString(payload);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Notification payload for channel '" + channel + "' of type "
                    + payload.getClass().getName() + " cannot be serialised to JSON: " + e.getOriginalMessage(), e);
        }
    }
}
