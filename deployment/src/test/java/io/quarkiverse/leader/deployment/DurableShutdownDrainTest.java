package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.LeaderShutdownListener;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A leader that leaves lets a running durable method finish and its message be acknowledged before it unlocks, so
 * that the next leader does not hand the same message over while the old one still handles it.
 */
class DurableShutdownDrainTest {

    static final String TABLE = "drain_test_messages";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Slow.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "drain_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "drain_test_send");

    @Inject
    LeaderElection election;

    @Inject
    Slow slow;

    @Test
    void leavingWaitsForTheRunningMethodAndItsAcknowledgement() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        long id = election.sendAndAwait("slow", "in flight");
        assertThat(slow.started.await(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> left = new CompletableFuture<>();
        new LeaderShutdownListener().preShutdown(() -> left.complete(null)); // what the application's shutdown does first
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3))
                .until(() -> !left.isDone() && TestPostgres.lockHolders(election.lock()) == 1);

        slow.release.countDown();
        left.get(10, TimeUnit.SECONDS);
        assertThat(TestPostgres.lockHolders(election.lock())).isZero();
        assertThat(TestPostgres.sql("SELECT count(*) FROM " + TABLE + " WHERE id = $1", id).get(0).getLong(0)).isZero();
    }

    static class Slow {

        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @OnLeaderNotification(value = "slow", durable = true)
        void onMessage(String payload) throws InterruptedException {
            started.countDown();
            release.await(30, TimeUnit.SECONDS); // on a worker; bounded, so a failed test does not hang shutdown
        }
    }
}
