package io.quarkiverse.leader.runtime.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.quarkiverse.leader.runtime.DropReason;
import io.quarkiverse.leader.runtime.LeaderMetrics;

/**
 * The elections' meters, when the application has Micrometer, each tagged with its {@code election}:
 * {@code leader.elected} (gauge, 0 or 1), {@code leader.transitions} (counter, tag {@code to}), {@code leader.acquire}
 * (timer), {@code leader.notifications.received} (counter, tag {@code channel}) and {@code leader.notifications.handled}
 * (timer, tags {@code channel}, {@code method}, {@code outcome}), {@code leader.notifications.dropped} (counter, tags
 * {@code channel}, {@code method}, {@code reason}: notifications left unhandled) and {@code leader.notifications.queued}
 * (gauge, tags {@code channel}, {@code method}: notifications waiting in the method's mailbox).
 */
@Singleton
public class MicrometerLeaderMetrics implements LeaderMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> elected = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Counter>> received = new ConcurrentHashMap<>();
    private final Map<String, Timer[]> handled = new ConcurrentHashMap<>();
    private final Map<String, Counter[]> dropped = new ConcurrentHashMap<>();

    @Inject
    public MicrometerLeaderMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void joined(String election) {
        gauge(election);
        // registered now: a first registration on the step-down path would delay the hand-over
        transitions(election, true);
        transitions(election, false);
    }

    @Override
    public void leadershipChanged(String election, boolean leader, Duration acquireTime) {
        gauge(election).set(leader ? 1 : 0);
        transitions(election, leader).increment();
        if (leader && acquireTime != null) {
            Timer.builder("leader.acquire").description("From opening the election session to holding the lock")
                    .tag("election", election).register(registry).record(acquireTime);
        }
    }

    private Counter transitions(String election, boolean leader) {
        return Counter.builder("leader.transitions").description("Leadership transitions of this instance")
                .tags("election", election, "to", leader ? "leader" : "follower").register(registry);
    }

    private AtomicInteger gauge(String election) {
        return elected.computeIfAbsent(election,
                e -> registry.gauge("leader.elected", Tags.of("election", e), new AtomicInteger()));
    }

    @Override
    public void received(String election, String channel) {
        // looked up without a builder: this runs for every notification
        Map<String, Counter> counters = received.get(election);
        if (counters == null) {
            counters = received.computeIfAbsent(election, e -> new ConcurrentHashMap<>());
        }
        Counter counter = counters.get(channel);
        if (counter == null) {
            counter = counters.computeIfAbsent(channel, c -> Counter.builder("leader.notifications.received")
                    .description("Notifications that reached the leader")
                    .tags("election", election, "channel", c).register(registry));
        }
        counter.increment();
    }

    @Override
    public void handled(String election, String channel, String method, long nanos, boolean failed) {
        Timer[] timers = handled.get(method); // a method has one election and one channel: its own timers
        if (timers == null) {
            timers = handled.computeIfAbsent(method, m -> new Timer[] { handledTimer(election, channel, m, "success"),
                    handledTimer(election, channel, m, "failure") });
        }
        timers[failed ? 1 : 0].record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void dropped(String election, String channel, String method, DropReason reason, int count) {
        Counter[] counters = dropped.get(method); // an overflowing mailbox drops at the senders' rate: looked up once
        if (counters == null) {
            counters = dropped.computeIfAbsent(method, m -> new Counter[DropReason.values().length]);
        }
        Counter counter = counters[reason.ordinal()];
        if (counter == null) {
            counter = Counter.builder("leader.notifications.dropped").description("Notifications left unhandled")
                    .tags("election", election, "channel", channel, "method", method, "reason", reason.tag())
                    .register(registry);
            counters[reason.ordinal()] = counter; // registering twice returns the same counter: a race is harmless
        }
        counter.increment(count);
    }

    @Override
    public void mailbox(String election, String channel, String method, IntSupplier depth) {
        Gauge.builder("leader.notifications.queued", depth, IntSupplier::getAsInt)
                .description("Notifications waiting in an @OnLeaderNotification method's mailbox")
                .tags("election", election, "channel", channel, "method", method)
                .strongReference(true) // the dispatcher keeps no other reference to the supplier
                .register(registry);
    }

    private Timer handledTimer(String election, String channel, String method, String outcome) {
        return Timer.builder("leader.notifications.handled").description("@OnLeaderNotification calls and their duration")
                .tags("election", election, "channel", channel, "method", method, "outcome", outcome).register(registry);
    }
}
