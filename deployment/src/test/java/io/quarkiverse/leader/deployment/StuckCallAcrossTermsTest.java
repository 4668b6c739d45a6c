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

import org.junit.jupiter.api.AfterAll;
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
 * A call still running when leadership ends does not hold its method up in the next term: each term begins with a
 * fresh mailbox, whether or not handler-timeout is set.
 */
class StuckCallAcrossTermsTest {

    /** Released once the test is over, so that the shutdown does not wait for the stuck call. */
    static final CountDownLatch END = new CountDownLatch(1);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Stuck.class, RecordingMetrics.class)
            .overrideConfigKey("quarkus.leader.instance-id", "stuck-across-terms");

    @Inject
    LeaderElection election;

    @Inject
    Stuck stuck;

    @Inject
    RecordingMetrics metrics;

    @AfterAll
    static void release() {
        END.countDown();
    }

    @Test
    void theNextTermIsNotBlockedByACallOfThePreviousOne() throws InterruptedException {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        long first = election.term().orElseThrow();
        election.notifyAndAwait("work", "stuck");
        assertThat(stuck.started.await(10, TimeUnit.SECONDS)).isTrue();
        election.notifyAndAwait("work", "queued"); // waits behind the stuck call, and is dropped at the step-down
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.received.get() == 2);

        assertThat(TestPostgres.terminateElectionSessions("stuck-across-terms")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(15))
                .until(() -> election.isLeader() && election.term().orElse(first) > first);
        election.notifyAndAwait("work", "next");
        await().atMost(Duration.ofSeconds(10)).until(() -> stuck.handled.contains("next"));
        assertThat(stuck.handled).containsExactly("stuck", "next");
        assertThat(metrics.notLeader).hasValue(1);
    }

    @Singleton
    static class RecordingMetrics implements LeaderMetrics {

        final AtomicInteger received = new AtomicInteger();
        final AtomicInteger notLeader = new AtomicInteger();

        @Override
        public void received(String election, String channel) {
            received.incrementAndGet();
        }

        @Override
        public void dropped(String election, String channel, String method, DropReason reason, int count) {
            if (reason == DropReason.NOT_LEADER) {
                notLeader.addAndGet(count);
            }
        }
    }

    @Singleton
    static class Stuck {

        final List<String> handled = new CopyOnWriteArrayList<>();
        final CountDownLatch started = new CountDownLatch(1);

        @OnLeaderNotification("work")
        void work(String payload) throws InterruptedException {
            handled.add(payload);
            if (payload.equals("stuck")) {
                started.countDown();
                END.await(60, TimeUnit.SECONDS);
            }
        }
    }
}
