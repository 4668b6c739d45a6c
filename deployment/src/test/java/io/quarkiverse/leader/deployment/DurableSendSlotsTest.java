package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.sqlclient.Row;

/**
 * The places of the group commit: a statement that hangs (here: its table locked) gives its place up after a quarter
 * of {@code send-timeout}, so later sends are not held up behind it for good; and a batch of several channels' sends
 * stores each message on its own channel, in one transaction. This instance takes no part in the election.
 */
class DurableSendSlotsTest {

    static final String TABLE = "send_slots_test_messages";
    static final String FUNCTION = "send_slots_test_send";
    static final Duration SEND_TIMEOUT = Duration.ofSeconds(8); // a place is given up after 2 s
    static final Duration BOUND = Duration.ofSeconds(20);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Messages.class)
            .overrideConfigKey("quarkus.leader.enabled", "false")
            .overrideConfigKey("quarkus.leader.send-timeout", SEND_TIMEOUT.toSeconds() + "s")
            .overrideConfigKey("quarkus.datasource.reactive.max-size", "4")
            .overrideConfigKey("quarkus.leader.durable.table", TestPostgres.freshDurableStorage(TABLE, FUNCTION))
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION);

    @Inject
    LeaderElection election;

    @Inject
    Pool pool;

    @Test
    void aStatementThatHangsGivesItsPlaceUpAndTheNextSendGoes() {
        election.sendAndAwait("orders", "storage ready");
        SqlConnection locker = pool.getConnection().await().atMost(BOUND);
        List<Uni<Long>> sends = new ArrayList<>();
        try {
            locker.query("BEGIN; LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE").executeAndAwait();
            // both places taken by statements that wait for the lock
            sends.add(sent(election.send("orders", "first")));
            sends.add(sent(election.send("orders", "second")));
            await().atMost(BOUND).until(() -> waitingForTheTable() == 2);
            // once their places have expired, a third goes out on its own statement, rather than wait behind them
            await().pollDelay(SEND_TIMEOUT.dividedBy(4).plusMillis(200)).atMost(BOUND).until(() -> true);
            sends.add(sent(election.send("orders", "third")));
            await().atMost(BOUND).until(() -> waitingForTheTable() == 3);
        } finally {
            locker.query("ROLLBACK").executeAndAwait();
            locker.closeAndAwait();
        }
        for (Uni<Long> send : sends) {
            assertThat(send.await().atMost(BOUND)).isPositive();
        }
    }

    @Test
    void aBatchOfSeveralChannelsStoresEachMessageOnItsOwnChannel() {
        election.sendAndAwait("orders", "storage ready");
        SqlConnection locker = pool.getConnection().await().atMost(BOUND);
        List<Uni<Long>> sends = new ArrayList<>();
        List<String> channels = List.of("orders", "refunds", "orders", "refunds", "orders", "refunds");
        try {
            locker.query("BEGIN; LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE").executeAndAwait();
            // the first two take the places; the four after them wait and go together
            for (int i = 0; i < channels.size(); i++) {
                sends.add(sent(election.send(channels.get(i), channels.get(i) + " " + i)));
            }
            await().atMost(BOUND).until(() -> waitingForTheTable() == 2);
        } finally {
            locker.query("ROLLBACK").executeAndAwait();
            locker.closeAndAwait();
        }
        Map<String, Set<String>> channelsOf = new HashMap<>(); // by transaction
        for (int i = 0; i < sends.size(); i++) {
            long id = sends.get(i).await().atMost(BOUND);
            Row row = TestPostgres.sql("SELECT channel, payload, xmin::text FROM " + TABLE + " WHERE id = $1", id).get(0);
            assertThat(row.getString(0)).as("the channel of send %d", i).isEqualTo(channels.get(i));
            assertThat(row.getString(1)).as("the payload of send %d", i).isEqualTo(channels.get(i) + " " + i);
            channelsOf.computeIfAbsent(row.getString(2), t -> new HashSet<>()).add(row.getString(0));
        }
        assertThat(channelsOf.values()).as("the channels of each transaction").anySatisfy(
                inOne -> assertThat(inOne).containsExactlyInAnyOrder("orders", "refunds"));
    }

    /** {@code send}, subscribed now and remembered, so that it is on its way whether or not it is awaited. */
    private static Uni<Long> sent(Uni<Long> send) {
        Uni<Long> remembered = send.memoize().indefinitely();
        remembered.subscribe().with(id -> {
        }, e -> {
        });
        return remembered;
    }

    /** The backends whose statements wait for a lock on the message table. */
    private static long waitingForTheTable() {
        return TestPostgres.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND datname = current_database() AND query LIKE '%' || $1 || '%'", FUNCTION).get(0).getLong(0);
    }

    static class Messages {

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
        }

        @OnLeaderNotification(value = "refunds", durable = true)
        void onRefund(String payload) {
        }
    }
}
