package io.quarkiverse.leader.it;

import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.leader.OnLeaderNotification;
import io.smallrye.common.annotation.NonBlocking;

/**
 * The benchmark's receiving end: the leader records, for each notification on {@code bench}, how long it took from
 * the moment the sender called {@code notify} (written into the payload) to this handler.
 */
@ApplicationScoped
public class BenchmarkProbe {

    private static final int CAPACITY = 1_000_000;

    private final long[] latencies = new long[CAPACITY];
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicLong lastMicros = new AtomicLong();

    @NonBlocking
    @OnLeaderNotification("bench")
    void onBench(String payload) {
        long now = nowMicros();
        // {"sentMicros":123,...}: read the number without a JSON parser, so the probe costs next to nothing
        int start = payload.indexOf(':') + 1;
        int end = payload.indexOf(',', start);
        long sent = Long.parseLong(payload, start, end, 10);
        int i = count.getAndIncrement();
        if (i < CAPACITY) {
            latencies[i] = now - sent;
        }
        lastMicros.set(now);
    }

    void reset() {
        count.set(0);
        lastMicros.set(0);
    }

    Map<String, Object> stats() {
        int n = Math.min(count.get(), CAPACITY);
        long[] sorted = Arrays.copyOf(latencies, n);
        Arrays.sort(sorted);
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("count", count.get());
        stats.put("lastMicros", lastMicros.get());
        stats.put("p50Micros", percentile(sorted, 0.50));
        stats.put("p99Micros", percentile(sorted, 0.99));
        stats.put("p999Micros", percentile(sorted, 0.999));
        return stats;
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
    }

    private static long percentile(long[] sorted, double p) {
        return sorted.length == 0 ? -1 : sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    }
}
