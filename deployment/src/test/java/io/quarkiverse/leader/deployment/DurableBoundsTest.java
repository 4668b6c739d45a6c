package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.MessageTable;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.sqlclient.Row;

/**
 * What the leader and a reader of dead letters hold in memory is bounded in bytes, not only in count: a fetch stops
 * at 8 MiB of payloads beyond its first message, a payload larger than max-payload-size (stored by SQL, past send's
 * check) is not read but becomes a dead letter, and dead letters come in pages bounded the same way.
 */
class DurableBoundsTest {

    static final String TABLE = "bounds_test_messages";
    static final int MIB = 1 << 20;

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Orders.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "bounds_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "bounds_test_send")
            .overrideConfigKey("quarkus.leader.durable.max-payload-size", "2M")
            // wake-ups only: a batch cut short by its bytes must be followed at once, not at the next poll
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "1h");

    @Inject
    LeaderElection election;

    @Inject
    Orders orders;

    @Test
    void aPayloadTooLargeToReadIsADeadLetterAndTheChannelGoesOn() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        long big = TestPostgres.sql("SELECT bounds_test_send('orders', repeat('x', 3 * " + MIB + "))").get(0).getLong(0);
        election.sendAndAwait("orders", "after it");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(orders.received).containsExactly("after it"));
        List<DeadLetter> dead = election.deadLetters("orders").await().atMost(Duration.ofSeconds(5));
        assertThat(dead).singleElement().satisfies(letter -> {
            assertThat(letter.id()).isEqualTo(big);
            assertThat(letter.payload()).isNull(); // larger than a reader holds
            assertThat(letter.lastError()).contains(3 * MIB + " bytes", "quarkus.leader.durable.max-payload-size",
                    Integer.toString(2 * MIB));
        });
    }

    @Test
    void aBacklogOfLargeMessagesIsDrainedBatchAfterBatchWithoutWaitingForPolls() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        // stored without wake-ups, as while no instance led; then one wake-up, a large message's (its channel alone)
        TestPostgres.sql("INSERT INTO " + TABLE + " (channel, payload) SELECT 'large', repeat('l', " + MIB + ")"
                + " FROM generate_series(1, 20)");
        election.sendAndAwait("large", "l".repeat(MIB));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(orders.large).hasValue(21));
    }

    @Test
    void aFetchStopsAtEightMebibytesOfPayloads() {
        TestPostgres.sql("INSERT INTO " + TABLE + " (channel, payload) SELECT 'fetch', repeat('y', " + MIB + ")"
                + " FROM generate_series(1, 10)");
        MessageTable table = new MessageTable(Optional.empty(), TABLE, "bounds_test_send", "w", true, false, "", "");
        List<Row> batch = TestPostgres.sql(table.fetchSql(), "fetch", 100, 2L * MIB, 8L * MIB);
        // it stops once the payloads reach 8 MiB: 8 of 1 MiB
        assertThat(batch).hasSize(8);
        // a first message larger than the budget still comes alone: a channel never stalls on one
        assertThat(TestPostgres.sql(table.fetchSql(), "fetch", 100, 2L * MIB, 1L)).hasSize(1);
        TestPostgres.sql("DELETE FROM " + TABLE + " WHERE channel = 'fetch'");
    }

    @Test
    void deadLettersComeInPagesBoundedInCountAndBytes() {
        TestPostgres.sql("INSERT INTO " + TABLE + " (channel, payload, attempts, dead_at) SELECT 'paged', 'p' || i, 1,"
                + " now() FROM generate_series(1, " + (LeaderElection.MAX_DEAD_LETTERS + 5) + ") i");
        List<DeadLetter> first = election.deadLetters("paged").await().atMost(Duration.ofSeconds(10));
        assertThat(first).hasSize(LeaderElection.MAX_DEAD_LETTERS);
        List<DeadLetter> second = election.deadLetters("paged", first.get(first.size() - 1).id())
                .await().atMost(Duration.ofSeconds(10));
        assertThat(second).extracting(DeadLetter::payload).containsExactly("p1001", "p1002", "p1003", "p1004", "p1005");
        assertThat(election.deadLetters("paged", second.get(4).id()).await().atMost(Duration.ofSeconds(10))).isEmpty();

        TestPostgres.sql("DELETE FROM " + TABLE + " WHERE channel = 'paged'");
    }

    static class Orders {

        final List<String> received = new CopyOnWriteArrayList<>();
        final AtomicInteger large = new AtomicInteger();

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
            received.add(payload);
        }

        @OnLeaderNotification(value = "large", durable = true)
        void onLarge(String payload) {
            large.incrementAndGet();
        }
    }
}
