package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionOptions;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.ElectionState;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.SlowProxy;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;

/**
 * The election's session from its first moment to its last: a stop while the session opens leaves none behind, and the
 * server's own timeouts never end a session that waits for the lock.
 */
class SessionLifecycleTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest();

    @Inject
    Vertx vertx;

    @Test
    void aStopWhileTheSessionOpensLeavesNoSessionBehind() {
        // the server lets the session in only after 2.5 s, longer than the lease (2 s) that bounds the departure
        try (SlowProxy slow = new SlowProxy(TestPostgres.url(), 2500)) {
            ElectionOptions defaults = TestElections.options("slow-start", TestPostgres.uniqueLock(),
                    AcquireStrategy.WAIT, List.of());
            PgConnectOptions through = PgConnectOptions.fromUri(slow.url())
                    .addProperty("application_name", "leader:slow-start");
            // a long poll makes the client's idle timeout (poll + 2 x lease) long too: only the close on arrival can
            // end the late session within the bound below
            ElectionSession election = new ElectionSession(vertx, new ElectionOptions(through, defaults.lock(),
                    "slow-start", List.of(), AcquireStrategy.WAIT, Duration.ofSeconds(30), defaults.heartbeat(),
                    defaults.lease(), defaults.reconnectInitialDelay(), defaults.reconnectMaxDelay(),
                    defaults.reconnectRejectedMaxDelay(), defaults.observerTimeout(), defaults.terms(),
                    defaults.datasource()),
                    new RecordingListener());
            TestPostgres.await(election.start());
            await().atMost(Duration.ofSeconds(5)).until(() -> slow.accepted() == 1); // its session is being opened
            assertThat(election.state()).isEqualTo(ElectionState.CONNECTING);

            Future<Void> stopped = election.stop();
            await().atMost(Duration.ofSeconds(4)).until(stopped::isComplete);
            assertThat(election.state()).isEqualTo(ElectionState.STOPPED);
            // the session would get in about 2.5 s after it was opened, after the departure: none stays
            await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> sessions("slow-start") == 0);
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> sessions("slow-start") == 0);
            assertThat(slow.accepted()).isEqualTo(1);
        }
    }

    @Test
    void aServerTransactionTimeoutDoesNotEndTheWaitForTheLock() {
        assumeTrue(TestPostgres.sql("SHOW server_version_num").get(0).getString(0).compareTo("170000") >= 0,
                "transaction_timeout exists from PostgreSQL 17 on");
        long lock = TestPostgres.uniqueLock();
        PgConnection holder = TestPostgres.connect();
        TestPostgres.await(holder.query("SELECT pg_advisory_lock(" + lock + ")").execute());
        ElectionOptions defaults = TestElections.options("patient", lock, AcquireStrategy.WAIT, List.of());
        // a role or server default of 300 ms; each wait lasts a poll of 2 s
        defaults.connectOptions().addProperty("transaction_timeout", "300ms");
        ElectionOptions options = new ElectionOptions(defaults.connectOptions(), lock, "patient", List.of(),
                AcquireStrategy.WAIT, Duration.ofSeconds(2), defaults.heartbeat(), defaults.lease(),
                defaults.reconnectInitialDelay(), defaults.reconnectMaxDelay(), defaults.reconnectRejectedMaxDelay(),
                defaults.observerTimeout(), defaults.terms(), defaults.datasource());
        ElectionSession follower = new ElectionSession(vertx, options, new RecordingListener());
        try {
            TestPostgres.await(follower.start());
            int pid = await().atMost(Duration.ofSeconds(5)).until(() -> waitingPid(), p -> p != 0);
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> waitingPid() == pid);
            TestPostgres.await(holder.close());
            await().atMost(Duration.ofSeconds(5)).until(follower::isLeader);
        } finally {
            TestPostgres.await(follower.stop());
            TestPostgres.await(holder.close());
        }
    }

    private static long sessions(String instanceId) {
        return TestPostgres.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                "leader:" + instanceId).get(0).getLong(0);
    }

    /** The backend of the follower waiting in pg_advisory_lock, or 0. */
    private static int waitingPid() {
        return TestPostgres.sql("SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE application_name = 'leader:patient'"
                + " AND query LIKE '%pg_advisory_lock(%'").get(0).getInteger(0);
    }
}
