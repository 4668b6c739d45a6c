package io.quarkiverse.leader.it;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one benchmark probe saw: how many messages, when the first and the last arrived, and each one's latency from
 * the sender's clock reading in its payload (up to a fixed number of them, so that the probe never grows).
 */
final class LatencyRecorder {

    private final long[] latencies;
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicLong firstMicros = new AtomicLong();
    private final AtomicLong lastMicros = new AtomicLong();

    LatencyRecorder(int capacity) {
        latencies = new long[capacity];
    }

    /** A message sent at {@code sentMicros} (the sender's clock) has arrived now. */
    void record(long sentMicros) {
        long now = BenchmarkProbe.nowMicros();
        int i = count.getAndIncrement();
        if (i == 0) {
            firstMicros.set(now);
        }
        if (i < latencies.length) {
            latencies[i] = now - sentMicros;
        }
        lastMicros.set(now);
    }

    /** {"sentMicros":123,...}: the number read without a JSON parser, so that the probe costs next to nothing. */
    static long sentMicros(String payload) {
        int start = payload.indexOf(':') + 1;
        int end = payload.indexOf(',', start);
        return Long.parseLong(payload, start, end, 10);
    }

    void reset() {
        count.set(0);
        firstMicros.set(0);
        lastMicros.set(0);
    }

    Map<String, Object> stats() {
        int n = Math.min(count.get(), latencies.length);
        long[] sorted = Arrays.copyOf(latencies, n);
        Arrays.sort(sorted);
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("count", count.get());
        stats.put("firstMicros", firstMicros.get());
        stats.put("lastMicros", lastMicros.get());
        stats.put("p50Micros", percentile(sorted, 0.50));
        stats.put("p99Micros", percentile(sorted, 0.99));
        stats.put("p999Micros", percentile(sorted, 0.999));
        return stats;
    }

    private static long percentile(long[] sorted, double p) {
        return sorted.length == 0 ? -1 : sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    }
}
