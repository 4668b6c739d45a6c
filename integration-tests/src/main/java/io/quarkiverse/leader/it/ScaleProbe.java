package io.quarkiverse.leader.it;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.leader.LeadershipChanged;

/**
 * The scale harness's receiving end, fed by the methods the scale profile generates ({@code ScaleChannels}, see
 * {@code src/scale}): each generated election's leadership transitions, the latency of the probe's JSON notifications
 * on the first channel of each election ({@code wideN_0}), and how many other notifications (the traffic beside the
 * probe) the election's channels carried. Unused in other builds.
 */
@ApplicationScoped
public class ScaleProbe {

    private final Map<String, List<LeadershipHistory.Transition>> transitions = new ConcurrentHashMap<>();
    private final LatencyRecorder latency = new LatencyRecorder(200_000);
    private final LongAdder traffic = new LongAdder();

    void leadershipChanged(String election, LeadershipChanged change) {
        transitions.computeIfAbsent(election, e -> new CopyOnWriteArrayList<>())
                .add(LeadershipHistory.Transition.of(change));
    }

    void received(String channel, String payload) {
        if (channel.endsWith("_0") && payload.startsWith("{")) { // the probe's, not the traffic beside it
            latency.record(LatencyRecorder.sentMicros(payload));
        } else {
            traffic.increment();
        }
    }

    List<LeadershipHistory.Transition> transitions(String election) {
        return transitions.getOrDefault(election, List.of());
    }

    void reset() {
        latency.reset();
        traffic.reset();
    }

    Map<String, Object> stats() {
        Map<String, Object> stats = latency.stats();
        stats.put("traffic", traffic.sum());
        return stats;
    }
}
