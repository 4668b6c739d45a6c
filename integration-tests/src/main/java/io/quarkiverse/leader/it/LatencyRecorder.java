package io.quarkiverse.leader.it;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one benchmark probe saw: how many messages, when the first and the last arrived, and each one's latency from
 * the sender's clock reading in its payload (up to a fixed number of them, so that the probe never grows). The
 * latencies' array is allocated at the first {@link #reset()}: a probe that is not in use keeps no large array in the
 * heap, where it would add to the live set and so to the collector's concurrent cycles, whose pauses are the tails.
 */
final class LatencyRecorder {

    private final int capacity;
    private volatile long[] latencies = new long[0];
    private final AtomicInteger next = new AtomicInteger(); // the slot of the next message
    private final AtomicInteger count = new AtomicInteger(); // messages whose latency is written
    private final AtomicLong firstMicros = new AtomicLong();
    private final AtomicLong lastMicros = new AtomicLong();

    LatencyRecorder(int capacity) {
        this.capacity = capacity;
    }

    /** A message sent at {@code sentMicros} (the sender's clock) has arrived now. */
    void record(long sentMicros) {
        long now = BenchmarkProbe.nowMicros();
        int i = next.getAndIncrement();
        if (i == 0) {
            firstMicros.set(now);
        }
        long[] kept = latencies;
        if (i < kept.length) {
            kept[i] = now - sentMicros;
        }
        lastMicros.set(now);
        count.incrementAndGet(); // after the write: a count read by stats() covers written latencies only
    }

    /** {"sentMicros":123,...}: the number read without a JSON parser, so that the probe costs next to nothing. */
    static long sentMicros(String payload) {
        int start = payload.indexOf(':') + 1;
        int end = payload.indexOf(',', start);
        return Long.parseLong(payload, start, end, 10);
    }

    int count() {
        return count.get();
    }

    synchronized void reset() {
        if (latencies.length < capacity) {
            latencies = new long[capacity];
        }
        next.set(0);
        count.set(0);
        firstMicros.set(0);
        lastMicros.set(0);
    }

    Map<String, Object> stats() {
        long[] kept = latencies;
        int n = Math.min(count.get(), kept.length);
        long[] sorted = Arrays.copyOf(kept, n);
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
