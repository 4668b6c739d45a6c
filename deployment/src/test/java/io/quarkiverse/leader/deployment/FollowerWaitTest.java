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
 * A follower waits for the lock in one statement that sends nothing until the lock is granted (TCP keepalive on both
 * ends watches the session), and still takes over at once; with unbounded waits off, as on servers before
 * PostgreSQL 14, each wait lasts one poll interval (200 ms here) and is issued again.
 */
class FollowerWaitTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest();

    @Inject
    Vertx vertx;

    @Test
    void waitsInOneStatementAndTakesOverWhenTheLockIsFree() {
        try (Waiting waiting = followerBehindAHeldLock("quiet-follower", true)) {
            assertThat(waiting.follower.waitsWithoutTimeout()).isTrue();
            // five poll intervals: a bounded wait would have been issued again several times
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2))
                    .until(() -> waiting.since.equals(waitStart("quiet-follower")) && !waiting.follower.isLeader());
            waiting.takeOver();
        }
    }

    @Test
    void boundedWaitsAreIssuedAgainEveryPoll() {
        try (Waiting waiting = followerBehindAHeldLock("bounded-follower", false)) {
            assertThat(waiting.follower.waitsWithoutTimeout()).isFalse();
            await().atMost(Duration.ofSeconds(3)).until(() -> {
                OffsetDateTime start = waitStart("bounded-follower");
                return start != null && start.isAfter(waiting.since);
            });
            waiting.takeOver();
        }
    }

    /** A follower waiting for a lock that a connection of the test's own holds. */
    private Waiting followerBehindAHeldLock(String instanceId, boolean waitUnbounded) {
        long lock = TestPostgres.uniqueLock();
        PgConnection holder = TestPostgres.connect();
        TestPostgres.await(holder.query("SELECT pg_advisory_lock(" + lock + ")").execute());
        RecordingListener listener = new RecordingListener();
        ElectionSession follower = new ElectionSession(vertx,
                TestElections.options(instanceId, lock, AcquireStrategy.WAIT, List.of(), waitUnbounded), listener);
        TestPostgres.await(follower.start());
        OffsetDateTime since = await().atMost(Duration.ofSeconds(10)).until(() -> waitStart(instanceId),
                start -> start != null);
        return new Waiting(lock, holder, follower, listener, since);
    }

    private record Waiting(long lock, PgConnection holder, ElectionSession follower, RecordingListener listener,
            OffsetDateTime since) implements AutoCloseable {

        /** The holder lets go: the follower leads at once. */
        void takeOver() {
            TestPostgres.await(holder.close());
            await().atMost(Duration.ofSeconds(5)).until(follower::isLeader);
            assertThat(listener.changes).containsExactly(true);
        }

        @Override
        public void close() {
            TestPostgres.await(follower.stop());
            TestPostgres.await(holder.close());
            assertThat(TestPostgres.lockHolders(lock)).isZero();
        }
    }

    /** When the follower's current wait for the lock began, or null when it is not waiting. */
    private static OffsetDateTime waitStart(String instanceId) {
        List<Row> rows = TestPostgres.sql("SELECT query_start FROM pg_stat_activity WHERE application_name = $1"
                + " AND state = 'active' AND query LIKE '%pg_advisory_lock(%'", "leader:" + instanceId);
        return rows.isEmpty() ? null : rows.get(0).getOffsetDateTime(0);
    }
}
