package io.quarkiverse.leader.runtime.metrics;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.quarkiverse.leader.runtime.LeaderMetrics;

/**
 * The election's meters, when the application has Micrometer: {@code leader.elected} (gauge, 0 or 1),
 * {@code leader.transitions} (counter, tag {@code to}), {@code leader.acquire} (timer),
 * {@code leader.notifications.received} (counter, tag {@code channel}) and {@code leader.notifications.handled}
 * (timer, tags {@code channel}, {@code method}, {@code outcome}).
 */
@Singleton
public class MicrometerLeaderMetrics implements LeaderMetrics {

    private final MeterRegistry registry;
    private final AtomicInteger elected = new AtomicInteger();

    @Inject
    public MicrometerLeaderMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("leader.elected", Tags.empty(), elected);
    }

    @Override
    public void leadershipChanged(boolean leader, Duration acquireTime) {
        elected.set(leader ? 1 : 0);
        Counter.builder("leader.transitions").description("Leadership transitions of this instance")
                .tag("to", leader ? "leader" : "follower").register(registry).increment();
        if (leader && acquireTime != null) {
            Timer.builder("leader.acquire").description("From opening the election session to holding the lock")
                    .register(registry).record(acquireTime);
        }
    }

    @Override
    public void received(String channel) {
        Counter.builder("leader.notifications.received").description("Notifications that reached the leader")
                .tag("channel", channel).register(registry).increment();
    }

    @Override
    public void handled(String channel, String method, long nanos, boolean failed) {
        Timer.builder("leader.notifications.handled").description("@OnLeaderNotification calls and their duration")
                .tags("channel", channel, "method", method, "outcome", failed ? "failure" : "success")
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }
}
