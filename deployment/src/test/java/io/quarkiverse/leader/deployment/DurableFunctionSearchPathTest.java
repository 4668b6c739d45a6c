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

/**
 * With no schema set, the send function stores into the table it was created with, not into a table of the same name
 * that a caller's {@code search_path} finds first (where the leader would never read the message).
 */
class DurableFunctionSearchPathTest {

    static final String TABLE = "search_path_test_messages";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Orders.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "search_path_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "search_path_test_send");

    @Inject
    LeaderElection election;

    @Inject
    Orders orders;

    @Test
    void aCallerWithAnotherSearchPathStoresIntoTheLeadersTable() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait("orders", "through send");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(orders.received).hasSize(1));
        TestPostgres.sql("CREATE SCHEMA IF NOT EXISTS search_path_decoy");
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS search_path_decoy." + TABLE + " (LIKE public." + TABLE
                + " INCLUDING DEFAULTS INCLUDING IDENTITY)");
        PgConnection conn = TestPostgres.connect();
        try {
            TestPostgres.await(conn.query("SET search_path = search_path_decoy, public").execute());
            TestPostgres.await(conn.query("SELECT search_path_test_send('orders', 'through SQL')").execute());
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(orders.received).containsExactly("through send", "through SQL"));
            assertThat(TestPostgres.sql("SELECT count(*) FROM search_path_decoy." + TABLE).get(0).getLong(0)).isZero();
        } finally {
            conn.close();
            TestPostgres.sql("DROP SCHEMA search_path_decoy CASCADE");
        }
    }

    static class Orders {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
            received.add(payload);
        }
    }
}
