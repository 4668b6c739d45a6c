package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.LeaderMetrics;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * An unordered method runs at most max-concurrency calls at once; the notifications beyond wait in its mailbox and
 * all of them run once calls finish.
 */
class MailboxConcurrencyTest {

    static final int NOTIFICATIONS = 12;

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Parallel.class, RecordingMetrics.class)
            .overrideConfigKey("quarkus.leader.delivery.channels.parallel.max-concurrency", "2")
            .overrideConfigKey("quarkus.leader.delivery.channels.parallel.queue-size", "10");

    @Inject
    LeaderElection election;

    @Inject
    Parallel parallel;

    @Inject
    RecordingMetrics metrics;

    @AfterEach
    void release() {
        parallel.release.countDown();
    }

    @Test
    void noMoreThanMaxConcurrencyCallsRunAtOnce() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        TestPostgres.sql("SELECT pg_notify('parallel', i::text) FROM generate_series(1, $1) AS i", NOTIFICATIONS);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.received.get() == NOTIFICATIONS);
        // two run, ten wait in the mailbox: nothing else is left to start a third
        await().atMost(Duration.ofSeconds(10)).until(() -> parallel.running.get() == 2 && metrics.depth.getAsInt() == 10);
        assertThat(parallel.highWater).hasValue(2);

        parallel.release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> parallel.handled.size() == NOTIFICATIONS);
        assertThat(parallel.highWater).hasValue(2);
    }

    @Singleton
    static class Parallel {

        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger highWater = new AtomicInteger();
        final List<String> handled = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "parallel", ordered = false)
        void handle(String payload) throws InterruptedException {
            highWater.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                release.await(20, TimeUnit.SECONDS);
                handled.add(payload);
            } finally {
                running.decrementAndGet();
            }
        }
    }

    @Singleton
    static class RecordingMetrics implements LeaderMetrics {

        final AtomicInteger received = new AtomicInteger();
        volatile IntSupplier depth = () -> -1;

        @Override
        public void received(String election, String channel) {
            received.incrementAndGet();
        }

        @Override
        public void mailbox(String election, String channel, String method, IntSupplier depth) {
            this.depth = depth;
        }
    }
}
