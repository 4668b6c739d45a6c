package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.DropReason;
import io.quarkiverse.leader.runtime.LeaderMetrics;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Notifications a step-down leaves unhandled are reported as dropped, never as handled.
 */
class DroppedNotificationsTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Slow.class, RecordingMetrics.class)
            .overrideConfigKey("quarkus.leader.instance-id", "dropping");

    @Inject
    LeaderElection election;

    @Inject
    Slow slow;

    @Inject
    RecordingMetrics metrics;

    @Test
    void queuedNotificationsOfALeaderThatStepsDownAreDropped() throws InterruptedException {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        for (String payload : List.of("first", "second", "third")) {
            election.notifyAndAwait("slow", payload);
        }
        assertThat(slow.started.await(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.received.get() == 3);

        assertThat(TestPostgres.terminateElectionSessions("dropping")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.dropped.get() == 2);
        slow.release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.handled.size() == 1);
        assertThat(slow.payloads).containsExactly("first");
        assertThat(metrics.handled).containsExactly("success");
        assertThat(metrics.dropped).hasValue(2);
    }

    @Singleton
    static class Slow {

        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<String> payloads = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("slow")
        void handle(String payload) throws InterruptedException {
            payloads.add(payload);
            started.countDown();
            release.await(20, TimeUnit.SECONDS);
        }
    }

    @Singleton
    static class RecordingMetrics implements LeaderMetrics {

        final AtomicInteger received = new AtomicInteger();
        final AtomicInteger dropped = new AtomicInteger();
        final List<String> handled = new CopyOnWriteArrayList<>();

        @Override
        public void received(String election, String channel) {
            received.incrementAndGet();
        }

        @Override
        public void dropped(String election, String channel, String method, DropReason reason, int count) {
            assertThat(reason).isEqualTo(DropReason.NOT_LEADER);
            dropped.addAndGet(count);
        }

        @Override
        public void handled(String election, String channel, String method, long nanos, boolean failed) {
            handled.add(failed ? "failure" : "success");
        }
    }
}
