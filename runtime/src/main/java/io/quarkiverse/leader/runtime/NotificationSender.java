package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.SendTimeoutException;
import io.smallrye.mutiny.Uni;
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
    private final Map<String, String> durableChannels;

    /** @param durableChannels the application's durable channels, each with the method that declares it */
    NotificationSender(ObjectMapper mapper, DatasourcePool pool, Duration timeout, String timeoutProperty,
            Map<String, String> durableChannels) {
        this.mapper = mapper;
        this.durableChannels = durableChannels;
        this.pool = pool;
        this.timeout = timeout;
        this.timeoutProperty = timeoutProperty;
    }

    Uni<Void> notify(String channel, Object payload) {
        String text;
        try {
            Channels.validateChannel(channel);
            refuseDurable(channel);
            text = Payloads.encode(mapper, channel, payload);
            Channels.validatePayload(channel, text);
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(e);
        }
        return Uni.createFrom().deferred(() -> pool.write("SELECT pg_notify($1, $2)", Tuple.of(channel, text))
                .replaceWithVoid())
                .ifNoItem().after(timeout).failWith(() -> new SendTimeoutException("PostgreSQL did not accept the"
                        + " notification on channel '" + channel + "' within " + timeout + " (" + timeoutProperty + ")"));
    }

    /** A notification on a durable channel would reach no method: the leader does not LISTEN on it. */
    private void refuseDurable(String channel) {
        String method = durableChannels.get(channel);
        if (method != null) {
            throw new IllegalArgumentException("Channel '" + channel + "' is durable (" + method + " is declared with"
                    + " @OnLeaderNotification(durable = true)): send its messages with LeaderElection.send(\"" + channel
                    + "\", payload), not notify()");
        }
    }
}
