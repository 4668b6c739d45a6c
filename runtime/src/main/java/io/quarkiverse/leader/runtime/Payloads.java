package io.quarkiverse.leader.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * How a payload becomes text, for notifications and durable messages alike: a {@link String} as it is, anything else
 * as JSON.
 */
final class Payloads {

    private Payloads() {
    }

    static String encode(ObjectMapper mapper, String channel, Object payload) {
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
