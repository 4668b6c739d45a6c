package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * With {@code durable.wakeup-payload=true} a small message rides in its wake-up and the leader hands it to its method
 * from there, unfetched; one that a fetch brought is not handed over again when its wake-up comes after that fetch;
 * and a wake-up that no send function made touches no stored message.
 */
class DurableWakeupHandoverTest {

    static final String TABLE = "handover_test_messages";
    static final String FUNCTION = "handover_test_send";
    static final String CHANNEL = "handover";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Receiver.class)
            .overrideConfigKey("quarkus.leader.durable.table", TestPostgres.freshDurableStorage(TABLE, FUNCTION))
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION)
            .overrideConfigKey("quarkus.leader.durable.wakeup-payload", "true")
            .overrideConfigKey("quarkus.leader.durable.max-attempts", "1")
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "1h"); // only the wake-ups deliver here

    @Inject
    LeaderElection election;

    @Inject
    Receiver receiver;

    @Test
    void aMessageThatRidesInItsWakeupIsHandedOverWithoutAFetch() {
        warmedUp();
        AtomicInteger tries = new AtomicInteger();
        // stored and gone again before its commit: a fetch would find nothing, only its wake-up has it. One that comes
        // while the leader is busy (an acknowledgement's answer on its way) is fetched, and so lost here: send again
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(300)).until(() -> {
            TestPostgres.sql("DO $$ DECLARE sent bigint; BEGIN sent := " + FUNCTION + "('" + CHANNEL + "', 'unfetched "
                    + tries.incrementAndGet() + "'); DELETE FROM " + TABLE + " WHERE id = sent; END $$");
            return receiver.received.stream().anyMatch(p -> p.startsWith("unfetched"));
        });
        assertThat(receiver.received).doesNotHaveDuplicates();
    }

    @Test
    void aWakeupThatComesAfterTheFetchThatBroughtItsMessageIsNotHandedOverAgain() {
        warmedUp();
        // too large to ride in its wake-up: the leader fetches it
        String large = "x".repeat(2_001);
        long id = election.sendAndAwait(CHANNEL, large);
        awaitAcknowledged(large);
        election.sendAndAwait(CHANNEL, "caught up");
        awaitAcknowledged("caught up");

        // its wake-up as a small one's would read, late: after the fetch that handed it over
        forgeWakeup(id, CHANNEL, large);
        election.sendAndAwait(CHANNEL, "after");

        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(receiver.received).containsExactly(large, "caught up", "after"));
    }

    @Test
    void aMadeUpWakeupTouchesNoStoredMessage() {
        warmedUp();
        // pending messages of a channel no method takes: they stay in the table
        long stored = election.sendAndAwait("handover_nobody", "stored");
        long other = election.sendAndAwait("handover_nobody", "other");

        // wake-ups that no send function made, naming the stored messages' ids on this channel: not checked before
        // the call (any session may NOTIFY: see wakeup-payload), but their acknowledgement, and the dead letter that
        // the poisoned one's failure makes (max-attempts=1), require the stored row to match
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(300)).until(() -> {
            forgeWakeup(stored, CHANNEL, "forged");
            return receiver.received.contains("forged");
        });
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(300)).until(() -> {
            forgeWakeup(other, CHANNEL, "poison");
            return receiver.poisoned.get() > 0;
        });
        election.sendAndAwait(CHANNEL, "after");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(receiver.received).endsWith("after"));

        assertThat(TestPostgres.sql("SELECT payload, attempts, dead_at IS NULL FROM " + TABLE + " WHERE channel ="
                + " 'handover_nobody' ORDER BY id")).extracting(row -> row.getString(0) + " " + row.getInteger(1) + " "
                        + row.getBoolean(2))
                .containsExactly("stored 0 true", "other 0 true");
        TestPostgres.sql("DELETE FROM " + TABLE + " WHERE channel = 'handover_nobody'");
    }

    private void warmedUp() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait(CHANNEL, "warm-up");
        awaitAcknowledged("warm-up");
        receiver.received.clear();
    }

    /** Once {@code payload} has reached the method and its acknowledgement has emptied the channel's rows. */
    private void awaitAcknowledged(String payload) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(receiver.received).contains(payload);
            assertThat(TestPostgres.sql("SELECT count(*) FROM " + TABLE + " WHERE channel = $1", CHANNEL).get(0)
                    .getLong(0)).isZero();
        });
    }

    /** The wake-up the send function would send for message {@code id}, sent by SQL. */
    private static void forgeWakeup(long id, String channel, String payload) {
        TestPostgres.sql("SELECT pg_notify('quarkus_leader_wakeup', chr(1) || $1 || ' 0 '"
                + " || octet_length(convert_to($2, 'UTF8')) || ' ' || $2 || $3)", String.valueOf(id), channel, payload);
    }

    static class Receiver {

        final List<String> received = new CopyOnWriteArrayList<>();
        final AtomicInteger poisoned = new AtomicInteger();

        @OnLeaderNotification(value = CHANNEL, durable = true)
        void onMessage(String payload) {
            if (payload.equals("poison")) {
                poisoned.incrementAndGet();
                throw new IllegalStateException("poisoned");
            }
            received.add(payload);
        }
    }
}
