package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.MessageTable;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * With {@code durable.wakeup-payload=false} the leader fetches every message, even from a send function whose wake-ups
 * carry them (made with {@code true}; the log says how to replace it): a message carried by its wake-up but not in
 * the table is not handed over.
 */
class DurableWakeupHandoverOffTest {

    static final String TABLE = "handover_off_test_messages";
    static final String FUNCTION = "handover_off_test_send";
    static final String CHANNEL = "handover_off";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Receiver.class)
            .overrideConfigKey("quarkus.leader.durable.table", carryingStorage())
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION)
            .overrideConfigKey("quarkus.leader.durable.wakeup-payload", "false")
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "1h")
            .setLogRecordPredicate(r -> r.getLoggerName().startsWith("io.quarkiverse.leader"))
            .assertLogRecords(records -> assertThat(records).anySatisfy(r -> assertThat(((ExtLogRecord) r)
                    .getFormattedMessage()).contains("puts small messages into its wake-ups")
                    .contains("CREATE OR REPLACE FUNCTION").doesNotContain("chr(1)")));

    /** The storage as wakeup-payload=true makes it: a function whose wake-ups carry small messages. */
    static String carryingStorage() {
        TestPostgres.freshDurableStorage(TABLE, FUNCTION);
        for (String statement : new MessageTable(Optional.empty(), TABLE, FUNCTION, "quarkus_leader_wakeup", true, true,
                "create-table", "function").ddl().split(";\n(?=CREATE)")) {
            // a test class is initialised by more than one class loader: the second finds the objects
            TestPostgres.sql(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"));
        }
        return TABLE;
    }

    @Inject
    LeaderElection election;

    @Inject
    Receiver receiver;

    @Test
    void aWakeupWhoseMessageIsNotInTheTableHandsNothingOver() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        receiver.received.clear();
        election.sendAndAwait(CHANNEL, "warm-up");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(receiver.received).contains("warm-up"));

        // stored and gone again before its commit: only its wake-up, which carries it, has it
        TestPostgres.sql("DO $$ DECLARE sent bigint; BEGIN sent := " + FUNCTION + "('" + CHANNEL + "', 'unfetched');"
                + " DELETE FROM " + TABLE + " WHERE id = sent; END $$");
        election.sendAndAwait(CHANNEL, "fetched");

        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(receiver.received).containsExactly("warm-up", "fetched"));
    }

    static class Receiver {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = CHANNEL, durable = true)
        void onMessage(String payload) {
            received.add(payload);
        }
    }
}
