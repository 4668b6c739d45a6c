package io.quarkiverse.leader.runtime.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
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
 * (gauge, tags {@code channel}, {@code method}: notifications waiting in the method's mailbox); for durable channels
 * {@code leader.durable.backlog} (gauge, tag {@code channel}), {@code leader.durable.handover} (timer) and the counters
 * {@code leader.durable.delivered}, {@code leader.durable.retried}, {@code leader.durable.dead-lettered} (tags
 * {@code channel}, {@code method}).
 */
@Singleton
public class MicrometerLeaderMetrics implements LeaderMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> elected = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Counter>> received = new ConcurrentHashMap<>();
    private final Map<String, Timer[]> handled = new ConcurrentHashMap<>();
    private final Map<String, Counter[]> dropped = new ConcurrentHashMap<>();
    private final Map<String, Timer> handedOver = new ConcurrentHashMap<>();
    private final Map<String, Counter> delivered = new ConcurrentHashMap<>();

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

    @Override
    public void durableBacklog(String election, String channel, DoubleSupplier backlog) {
        Gauge.builder("leader.durable.backlog", backlog, DoubleSupplier::getAsDouble).strongReference(true)
                .description("Pending messages of a durable channel, as the leader last counted them; NaN elsewhere")
                .tags("election", election, "channel", channel).register(registry);
    }

    @Override
    public void durableHandedOver(String election, String channel, String method, Duration sinceSent) {
        // per message: looked up without a builder
        Timer timer = handedOver.get(method);
        if (timer == null) {
            timer = handedOver.computeIfAbsent(method, m -> Timer.builder("leader.durable.handover")
                    .description("From a durable message's insert (database clock) to its hand-over to the method")
                    .tags("election", election, "channel", channel, "method", m).register(registry));
        }
        timer.record(sinceSent.isNegative() ? Duration.ZERO : sinceSent);
    }

    @Override
    public void durableDelivered(String election, String channel, String method, int count) {
        Counter counter = delivered.get(method);
        if (counter == null) {
            counter = delivered.computeIfAbsent(method, m -> Counter.builder("leader.durable.delivered")
                    .description("Durable messages handled and acknowledged")
                    .tags("election", election, "channel", channel, "method", m).register(registry));
        }
        counter.increment(count);
    }

    @Override
    public void retried(String election, String channel, String method) {
        // a failure's path: built when needed
        Counter.builder("leader.durable.retried").description("Failed calls of a durable method, retried")
                .tags("election", election, "channel", channel, "method", method).register(registry).increment();
    }

    @Override
    public void deadLettered(String election, String channel, String method) {
        Counter.builder("leader.durable.dead-lettered").description("Durable messages that became dead letters")
                .tags("election", election, "channel", channel, "method", method).register(registry).increment();
    }
}
