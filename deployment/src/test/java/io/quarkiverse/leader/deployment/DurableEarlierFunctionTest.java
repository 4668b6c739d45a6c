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
 * With {@code durable.wakeup-payload=true}, a send function of an earlier version (its wake-ups name the channel alone)
 * is used as it is: its messages are fetched and delivered all the same, and the log gives the statement that
 * replaces it with one whose wake-up carries them.
 */
class DurableEarlierFunctionTest {

    static final String TABLE = "earlier_function_test_messages";
    static final String FUNCTION = "earlier_function_test_send";
    static final String CHANNEL = "earlier";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Receiver.class)
            .overrideConfigKey("quarkus.leader.durable.table", earlierStorage())
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION)
            .overrideConfigKey("quarkus.leader.durable.wakeup-payload", "true")
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "1h") // only the wake-ups deliver here
            .setLogRecordPredicate(r -> r.getLoggerName().startsWith("io.quarkiverse.leader"))
            .assertLogRecords(records -> assertThat(records).anySatisfy(r -> assertThat(((ExtLogRecord) r)
                    .getFormattedMessage()).contains("wakes the leader with the channel's name alone")
                    .contains("CREATE OR REPLACE FUNCTION")
                    .contains("chr(1)")));

    /** The table as this version makes it, and the function as earlier versions made it. */
    static String earlierStorage() {
        TestPostgres.freshDurableStorage(TABLE, FUNCTION);
        String ddl = new MessageTable(Optional.empty(), TABLE, FUNCTION, "quarkus_leader_wakeup", true, true, "create-table",
                "function").ddl();
        for (String statement : ddl.substring(0, ddl.indexOf("CREATE FUNCTION")).split(";\n")) {
            TestPostgres.sql(statement);
        }
        TestPostgres.sql("CREATE OR REPLACE FUNCTION " + FUNCTION + "(channel text, payload text) RETURNS bigint"
                + " LANGUAGE plpgsql AS $$ DECLARE message_id bigint; BEGIN INSERT INTO " + TABLE
                + " (channel, payload) VALUES ($1, $2) RETURNING id INTO message_id;"
                + " PERFORM pg_notify('quarkus_leader_wakeup', $1); RETURN message_id; END $$");
        return TABLE;
    }

    @Inject
    LeaderElection election;

    @Inject
    Receiver receiver;

    @Test
    void itsMessagesAreDeliveredByTheWakeupThatNamesTheirChannel() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait(CHANNEL, "first");
        election.sendAndAwait(CHANNEL, "second");

        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(receiver.received).containsExactly("first", "second"));
    }

    static class Receiver {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = CHANNEL, durable = true)
        void onMessage(String payload) {
            received.add(payload);
        }
    }
}
