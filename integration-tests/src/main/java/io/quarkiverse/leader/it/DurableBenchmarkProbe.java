package io.quarkiverse.leader.it;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.leader.OnLeaderNotification;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The durable benchmark's receiving end, on two channels of its own: {@value #AT_LEAST_ONCE} records each message's
 * latency from the sender's clock reading in its payload to the start of the method, {@value #EXACTLY_ONCE} (ordered)
 * and {@value #EXACTLY_ONCE_UNORDERED} ({@code ordered = false}) write one row of their own into {@code bench_effect}
 * (payload text) in the message's fenced transaction.
 */
@ApplicationScoped
public class DurableBenchmarkProbe {

    static final String AT_LEAST_ONCE = "bench_durable";
    static final String EXACTLY_ONCE = "bench_once";
    static final String EXACTLY_ONCE_UNORDERED = "bench_once_unordered";

    // as many latencies as the benchmark's longest run: 160 KB each
    private final LatencyRecorder atLeastOnce = new LatencyRecorder(20_000);
    private final LatencyRecorder exactlyOnce = new LatencyRecorder(20_000);
    private final LatencyRecorder exactlyOnceUnordered = new LatencyRecorder(20_000);

    @NonBlocking
    @OnLeaderNotification(value = AT_LEAST_ONCE, durable = true)
    void onDurable(String payload) {
        atLeastOnce.record(LatencyRecorder.sentMicros(payload));
    }

    @OnLeaderNotification(value = EXACTLY_ONCE, durable = true)
    Uni<Void> onExactlyOnce(String payload, SqlConnection connection) {
        exactlyOnce.record(LatencyRecorder.sentMicros(payload));
        return effect(payload, connection);
    }

    /** The same, with up to max-concurrency (16) messages, each in its own transaction, handled at once. */
    @OnLeaderNotification(value = EXACTLY_ONCE_UNORDERED, durable = true, ordered = false)
    Uni<Void> onExactlyOnceUnordered(String payload, SqlConnection connection) {
        exactlyOnceUnordered.record(LatencyRecorder.sentMicros(payload));
        return effect(payload, connection);
    }

    private static Uni<Void> effect(String payload, SqlConnection connection) {
        return connection.preparedQuery("INSERT INTO bench_effect (payload) VALUES ($1)").execute(Tuple.of(payload))
                .replaceWithVoid();
    }

    /** The recorder of a channel of this probe. */
    LatencyRecorder recorder(String channel) {
        return switch (channel) {
            case AT_LEAST_ONCE -> atLeastOnce;
            case EXACTLY_ONCE -> exactlyOnce;
            case EXACTLY_ONCE_UNORDERED -> exactlyOnceUnordered;
            default -> throw new IllegalArgumentException("channel must be " + AT_LEAST_ONCE + ", " + EXACTLY_ONCE
                    + " or " + EXACTLY_ONCE_UNORDERED + ", not " + channel);
        };
    }

    Map<String, Object> stats(String channel) {
        return recorder(channel).stats();
    }
}
