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

/**
 * A small message rides in its wake-up and the leader hands it to its method from there, unfetched; one that a fetch
 * brought is not handed over again when its wake-up comes after that fetch.
 */
class DurableWakeupHandoverTest {

    static final String TABLE = "handover_test_messages";
    static final String FUNCTION = "handover_test_send";
    static final String CHANNEL = "handover";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Receiver.class)
            .overrideConfigKey("quarkus.leader.durable.table", TestPostgres.freshDurableStorage(TABLE, FUNCTION))
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION)
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "1h"); // only the wake-ups deliver here

    @Inject
    LeaderElection election;

    @Inject
    Receiver receiver;

    @Test
    void aMessageThatRidesInItsWakeupIsHandedOverWithoutAFetch() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        receiver.received.clear();
        election.sendAndAwait(CHANNEL, "warm-up");
        awaitAcknowledged("warm-up");

        // stored and gone again before its commit: a fetch would find nothing, only its wake-up has it
        TestPostgres.sql("DO $$ DECLARE sent bigint; BEGIN sent := " + FUNCTION + "('" + CHANNEL + "', 'unfetched');"
                + " DELETE FROM " + TABLE + " WHERE id = sent; END $$");

        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(receiver.received).containsExactly("warm-up", "unfetched"));
    }

    @Test
    void aWakeupThatComesAfterTheFetchThatBroughtItsMessageIsNotHandedOverAgain() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait(CHANNEL, "warm-up");
        awaitAcknowledged("warm-up");
        receiver.received.clear();
        // too large to ride in its wake-up: the leader fetches it
        String large = "x".repeat(2_001);
        long id = election.sendAndAwait(CHANNEL, large);
        awaitAcknowledged(large);

        // its wake-up as a small one's would read, late: after the fetch that handed it over
        forgeWakeup(id, CHANNEL, large);
        election.sendAndAwait(CHANNEL, "after");

        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(receiver.received).containsExactly(large, "after"));
    }

    @Test
    void aMadeUpWakeupTouchesNoStoredMessage() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait(CHANNEL, "warm-up");
        awaitAcknowledged("warm-up");
        receiver.received.clear();
        // a pending message of a channel no method takes: it stays in the table
        long stored = election.sendAndAwait("handover_nobody", "stored");
        long higher = TestPostgres.sql("SELECT nextval(pg_get_serial_sequence($1, 'id'))", TABLE).get(0).getLong(0);

        // wake-ups that no send function made: one names the stored message's id, one a higher id; both say
        // "forged" on this channel
        forgeWakeup(stored, CHANNEL, "forged");
        forgeWakeup(higher, CHANNEL, "forged too");
        election.sendAndAwait(CHANNEL, "after");

        // the made-up wake-ups are not checked before the call (any session may NOTIFY: see wakeup-payload), but
        // their acknowledgements delete nothing: the stored message is still there, and "after" is handed over
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(receiver.received).endsWith("after"));
        assertThat(TestPostgres.sql("SELECT payload FROM " + TABLE + " WHERE id = $1", stored))
                .extracting(row -> row.getString(0)).containsExactly("stored");
        TestPostgres.sql("DELETE FROM " + TABLE + " WHERE id = $1", stored);
    }

    /** Once {@code payload} has reached the method and its acknowledgement has emptied the table. */
    private void awaitAcknowledged(String payload) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(receiver.received).contains(payload);
            assertThat(TestPostgres.sql("SELECT count(*) FROM " + TABLE).get(0).getLong(0)).isZero();
        });
    }

    /** The wake-up the send function would send for message {@code id}, sent by SQL. */
    private static void forgeWakeup(long id, String channel, String payload) {
        TestPostgres.sql("SELECT pg_notify('quarkus_leader_wakeup', chr(1) || $1 || ' 0 ' || length($2) || ' ' || $2"
                + " || $3)", String.valueOf(id), channel, payload);
    }

    static class Receiver {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = CHANNEL, durable = true)
        void onMessage(String payload) {
            received.add(payload);
        }
    }
}
