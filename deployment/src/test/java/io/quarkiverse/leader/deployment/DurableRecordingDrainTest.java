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
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;

/**
 * A leader that leaves while the failure of a durable method is still being recorded waits for the record before it
 * unlocks: the channel is not idle until the attempt, its record and its acknowledgement are all done.
 */
class DurableRecordingDrainTest {

    static final String TABLE = "recording_drain_test_messages";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Failing.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "recording_drain_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "recording_drain_test_send");

    @Inject
    LeaderElection election;

    @Inject
    Failing failing;

    @Test
    void leavingWaitsForTheFailureToBeRecorded() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        long id = election.sendAndAwait("failing", "recorded before the unlock");
        assertThat(failing.started.await(10, TimeUnit.SECONDS)).isTrue();

        PgConnection rowHolder = TestPostgres.connect();
        try {
            // the record of the failure, an UPDATE of the message's row, waits behind this lock
            TestPostgres.await(rowHolder.query("BEGIN").execute());
            TestPostgres.await(rowHolder.preparedQuery("SELECT id FROM " + TABLE + " WHERE id = $1 FOR UPDATE")
                    .execute(Tuple.of(id)));
            failing.release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> TestPostgres.sql("SELECT count(*)"
                    + " FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE %" + TABLE + "%'")
                    .get(0).getLong(0) == 1);

            CompletableFuture<Void> left = new CompletableFuture<>();
            new LeaderShutdownListener().preShutdown(() -> left.complete(null));
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3))
                    .until(() -> !left.isDone() && TestPostgres.lockHolders(election.lock()) == 1);

            TestPostgres.await(rowHolder.query("COMMIT").execute());
            left.get(10, TimeUnit.SECONDS);
        } finally {
            rowHolder.close();
        }
        assertThat(TestPostgres.lockHolders(election.lock())).isZero();
        assertThat(TestPostgres.sql("SELECT attempts FROM " + TABLE + " WHERE id = $1", id).get(0).getInteger(0))
                .isEqualTo(1);
    }

    static class Failing {

        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @OnLeaderNotification(value = "failing", durable = true)
        void onMessage(String payload) throws InterruptedException {
            started.countDown();
            release.await(30, TimeUnit.SECONDS); // on a worker; bounded, so a failed test does not hang shutdown
            throw new IllegalStateException("fails on purpose");
        }
    }
}
