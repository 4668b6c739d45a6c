package io.quarkiverse.leader.it;

import java.time.Instant;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.leader.OnLeaderNotification;
import io.smallrye.common.annotation.NonBlocking;

/**
 * The benchmark's receiving end: the leader records, for each notification on {@code bench}, how long it took from
 * the moment the sender called {@code notify} (written into the payload) to this handler.
 */
@ApplicationScoped
public class BenchmarkProbe {

    private final LatencyRecorder recorder = new LatencyRecorder(1_000_000);

    @NonBlocking
    @OnLeaderNotification("bench")
    void onBench(String payload) {
        recorder.record(LatencyRecorder.sentMicros(payload));
    }

    void reset() {
        recorder.reset();
    }

    Map<String, Object> stats() {
        return recorder.stats();
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
    }
}
