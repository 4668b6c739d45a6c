package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;

/**
 * Ids come from a sequence and transactions commit in any order: a message whose transaction commits after one with a
 * higher id has been handled is still delivered, within the wake-up at its commit rather than the periodic check.
 */
class DurableLateCommitTest {

    static final String TABLE = "late_test_messages";
    static final String FUNCTION = "late_test_send";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Late.class)
            .overrideConfigKey("quarkus.leader.durable.table", TestPostgres.freshDurableStorage(TABLE, FUNCTION))
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION)
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "1h"); // only the wake-ups deliver here

    @Inject
    LeaderElection election;

    @Inject
    Late late;

    @Test
    void aLowerIdCommittedLateIsStillDelivered() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait("late", "warm-up"); // the storage exists and the leader drains
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(late.received).containsExactly("warm-up"));

        PgConnection low = TestPostgres.connect();
        PgConnection high = TestPostgres.connect();
        try {
            TestPostgres.await(low.query("BEGIN").execute());
            long lowId = send(low, "low");
            TestPostgres.await(high.query("BEGIN").execute());
            long highId = send(high, "high");
            assertThat(highId).isGreaterThan(lowId);

            TestPostgres.await(high.query("COMMIT").execute());
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(late.received).containsExactly("warm-up", "high"));
            TestPostgres.await(low.query("COMMIT").execute());
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(late.received).containsExactly("warm-up", "high", "low"));
        } finally {
            low.close();
            high.close();
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(TestPostgres
                .sql("SELECT count(*) FROM " + TABLE + " WHERE channel = 'late'").get(0).getLong(0)).isZero());
    }

    private static long send(PgConnection conn, String payload) {
        Row row = TestPostgres.await(conn.query("SELECT " + FUNCTION + "('late', '" + payload + "')").execute())
                .iterator().next();
        return row.getLong(0);
    }

    static class Late {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "late", durable = true)
        void onMessage(String payload) {
            received.add(payload);
        }
    }
}
