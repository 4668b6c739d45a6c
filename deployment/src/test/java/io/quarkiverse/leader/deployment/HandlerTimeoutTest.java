package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.DropReason;
import io.quarkiverse.leader.runtime.LeaderMetrics;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;

/**
 * A call that does not complete within handler-timeout is abandoned: the method's next notification runs.
 */
class HandlerTimeoutTest {

    /** Released once the tests are over, so that the shutdown does not wait for the stuck call. */
    static final CountDownLatch END = new CountDownLatch(1);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Stuck.class, RecordingMetrics.class)
            .overrideConfigKey("quarkus.leader.delivery.handler-timeout", "300ms")
            // the shutdown waits for abandoned calls too: the Uni that never completes would hold it up 10 s
            .overrideConfigKey("quarkus.leader.shutdown-timeout", "1s");

    @Inject
    LeaderElection election;

    @Inject
    Stuck stuck;

    @Inject
    RecordingMetrics metrics;

    @BeforeEach
    void awaitLeadership() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
    }

    @AfterAll
    static void release() {
        END.countDown();
    }

    @Test
    void aBlockingCallThatNeverReturnsIsAbandoned() throws InterruptedException {
        election.notifyAndAwait("blocking", "stuck");
        assertThat(stuck.blockingStarted.await(10, TimeUnit.SECONDS)).isTrue();
        election.notifyAndAwait("blocking", "next");
        await().atMost(Duration.ofSeconds(10)).until(() -> stuck.blocking.contains("next"));
        assertThat(stuck.blocking).containsExactly("stuck", "next");
        // abandoned, and counted as such, before the next one could start; never reported as handled
        assertThat(metrics.timeouts("blocking")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.handled("blocking") == 1);
    }

    @Test
    void aUniThatNeverCompletesIsAbandoned() {
        election.notifyAndAwait("never", "stuck");
        election.notifyAndAwait("never", "next");
        await().atMost(Duration.ofSeconds(10)).until(() -> stuck.never.contains("next"));
        assertThat(stuck.never).containsExactly("stuck", "next");
        assertThat(metrics.timeouts("never")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.handled("never") == 1);
    }

    @Singleton
    static class RecordingMetrics implements LeaderMetrics {

        final Map<String, AtomicInteger> timeouts = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();

        @Override
        public void dropped(String election, String channel, String method, DropReason reason, int count) {
            if (reason == DropReason.TIMEOUT) {
                timeouts.computeIfAbsent(channel, c -> new AtomicInteger()).addAndGet(count);
            }
        }

        @Override
        public void handled(String election, String channel, String method, long nanos, boolean failed) {
            handled.computeIfAbsent(channel, c -> new AtomicInteger()).incrementAndGet();
        }

        int timeouts(String channel) {
            return timeouts.getOrDefault(channel, new AtomicInteger()).get();
        }

        int handled(String channel) {
            return handled.getOrDefault(channel, new AtomicInteger()).get();
        }
    }

    @Singleton
    static class Stuck {

        final List<String> blocking = new CopyOnWriteArrayList<>();
        final CountDownLatch blockingStarted = new CountDownLatch(1);
        final List<String> never = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("blocking")
        void blocking(String payload) throws InterruptedException {
            blocking.add(payload);
            if (payload.equals("stuck")) {
                blockingStarted.countDown();
                END.await(60, TimeUnit.SECONDS);
            }
        }

        @OnLeaderNotification("never")
        Uni<Void> never(String payload) {
            never.add(payload);
            return payload.equals("stuck") ? Uni.createFrom().nothing() : Uni.createFrom().voidItem();
        }
    }
}
