package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;

/**
 * A waiting follower's statement holds a snapshot (it holds back VACUUM) for as long as it waits, so each wait lasts
 * one poll interval (200 ms here) and is issued again; the follower still takes over the moment the lock is free.
 */
class FollowerWaitTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest();

    @Inject
    Vertx vertx;

    @Test
    void eachWaitLastsOnePollAndTheLockPassesAtOnce() {
        long lock = TestPostgres.uniqueLock();
        PgConnection holder = TestPostgres.connect();
        TestPostgres.await(holder.query("SELECT pg_advisory_lock(" + lock + ")").execute());
        RecordingListener listener = new RecordingListener();
        ElectionSession follower = new ElectionSession(vertx,
                TestElections.options("waiting-follower", lock, AcquireStrategy.WAIT, List.of()), listener);
        try {
            TestPostgres.await(follower.start());
            OffsetDateTime firstWait = await().atMost(Duration.ofSeconds(10)).until(FollowerWaitTest::waitStart,
                    start -> start != null);
            // the snapshot it holds is renewed: a later wait replaces the first one
            await().atMost(Duration.ofSeconds(3)).until(() -> {
                OffsetDateTime start = waitStart();
                return start != null && start.isAfter(firstWait);
            });
            assertThat(follower.isLeader()).isFalse();

            TestPostgres.await(holder.close());
            await().atMost(Duration.ofSeconds(5)).until(follower::isLeader);
            assertThat(listener.changes).containsExactly(true);
        } finally {
            TestPostgres.await(follower.stop());
            TestPostgres.await(holder.close());
        }
        assertThat(TestPostgres.lockHolders(lock)).isZero();
    }

    /** When the follower's current wait for the lock began, or null when it is not waiting. */
    private static OffsetDateTime waitStart() {
        List<Row> rows = TestPostgres.sql("SELECT query_start FROM pg_stat_activity WHERE application_name = $1"
                + " AND datname = current_database() AND state = 'active' AND query LIKE '%pg_advisory_lock(%'",
                "leader:waiting-follower");
        return rows.isEmpty() ? null : rows.get(0).getOffsetDateTime(0);
    }
}
