package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.LogCapture;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.sqlclient.Row;

/**
 * Durable messages are stored by any instance: {@code send} in a transaction of its own or in the caller's, and the SQL
 * function for other producers. This instance takes no part in the election, so the rows stay for the test to read.
 */
class DurableSendTest {

    static final String TABLE = "send_test_messages";
    static final String FUNCTION = "send_test_send";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Orders.class, LogCapture.class)
            .overrideConfigKey("quarkus.leader.enabled", "false")
            .overrideConfigKey("quarkus.leader.durable.table", TestPostgres.freshDurableStorage(TABLE, FUNCTION))
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION)
            .overrideConfigKey("quarkus.leader.durable.max-payload-size", "1K");

    @Inject
    LeaderElection election;

    @Inject
    Pool pool;

    @Test
    void sendReturnsIncreasingIdsOfStoredRows() {
        long first = election.sendAndAwait("orders", "one");
        long second = election.send("orders", Map.of("id", 2)).await().atMost(Duration.ofSeconds(10));
        assertThat(second).isGreaterThan(first);
        assertThat(payload(first)).isEqualTo("one");
        assertThat(payload(second)).isEqualTo("{\"id\":2}");
    }

    @Test
    void aTransactionalSendExistsIfAndOnlyIfItsTransactionCommits() {
        long[] rolledBack = new long[1];
        assertThatThrownBy(() -> pool.withTransaction(conn -> election.send(conn, "orders", "rolled back")
                .invoke(id -> rolledBack[0] = id)
                .chain(id -> Uni.createFrom().failure(new IllegalStateException("the caller's work failed"))))
                .await().atMost(Duration.ofSeconds(10)))
                .hasMessage("the caller's work failed");
        assertThat(rolledBack[0]).isPositive();
        assertThat(TestPostgres.sql("SELECT count(*) FROM " + TABLE + " WHERE id = $1", rolledBack[0]).get(0).getLong(0))
                .isZero();

        long committed = pool.withTransaction(conn -> election.send(conn, "orders", "committed"))
                .await().atMost(Duration.ofSeconds(10));
        assertThat(payload(committed)).isEqualTo("committed");
    }

    @Test
    void theSqlFunctionStoresAMessage() {
        long before = election.sendAndAwait("orders", "before");
        List<Row> rows = TestPostgres.sql("SELECT " + FUNCTION + "('orders', '{\"id\": 1}')");
        long id = rows.get(0).getLong(0);
        assertThat(id).isGreaterThan(before);
        assertThat(payload(id)).isEqualTo("{\"id\": 1}");
    }

    @Test
    void anOversizePayloadFailsBeforeSendingNamingTheSetting() {
        assertThatThrownBy(() -> election.sendAndAwait("orders", "x".repeat(1025)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Durable message payload for channel 'orders' has 1025 bytes of UTF-8;"
                        + " quarkus.leader.durable.max-payload-size allows at most 1024");
        // no 8000-byte limit of NOTIFY below the setting: a payload over it is stored when the setting allows it
        assertThat(payload(election.sendAndAwait("orders", "é".repeat(512)))).hasSize(512);
    }

    @Test
    void notifyOnADurableChannelPointsToSend() {
        assertThatThrownBy(() -> election.notifyAndAwait("orders", "lost"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Channel 'orders' is durable (" + Orders.class.getName() + "#onOrder(String) is declared"
                        + " with @OnLeaderNotification(durable = true)): send its messages with"
                        + " LeaderElection.send(\"orders\", payload), not notify()");
    }

    @Test
    void sendOnAPlainChannelPointsToNotify() {
        assertThatThrownBy(() -> election.sendAndAwait("events", "never read"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Channel 'events' is a plain notification channel (" + Orders.class.getName()
                        + "#onEvent(String) is declared with @OnLeaderNotification without durable = true): a durable"
                        + " message on it would never be handed to a method; notify it with"
                        + " LeaderElection.notify(\"events\", payload), or declare the method durable");
    }

    @Test
    void sendOnAChannelNoMethodDeclaresIsStoredAndWarnedOfOnce() {
        try (LogCapture log = LogCapture.warnings("io.quarkiverse.leader.runtime.DurableSender")) {
            long first = election.sendAndAwait("ordres", "a typo");
            election.sendAndAwait("ordres", "again");
            assertThat(payload(first)).isEqualTo("a typo");
            assertThat(log.messages()).singleElement().asString().contains("declares channel 'ordres'");
        }
    }

    private static String payload(long id) {
        List<Row> rows = TestPostgres.sql("SELECT payload FROM " + TABLE + " WHERE id = $1", id);
        assertThat(rows).hasSize(1);
        return rows.get(0).getString(0);
    }

    static class Orders {

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
        }

        @OnLeaderNotification("events")
        void onEvent(String payload) {
        }
    }
}
