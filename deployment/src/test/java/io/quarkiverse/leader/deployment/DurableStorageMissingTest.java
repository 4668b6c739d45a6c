package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * With creation switched off and the message table missing, start-up logs the DDL to run and sends fail naming it.
 */
class DurableStorageMissingTest {

    static final String EXPECTED = "The durable message table \"missing_messages\" or the function"
            + " \"missing_send\"(text,text) does not exist and quarkus.leader.durable.create-table is false; create them"
            + " with:\nCREATE TABLE IF NOT EXISTS \"public\".\"missing_messages\" (id bigint GENERATED ALWAYS AS IDENTITY";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Orders.class)
            .overrideConfigKey("quarkus.leader.enabled", "false")
            .overrideConfigKey("quarkus.leader.durable.create-table", "false")
            .overrideConfigKey("quarkus.leader.durable.table", "missing_messages")
            .overrideConfigKey("quarkus.leader.durable.function", "missing_send")
            .setLogRecordPredicate(r -> r.getLoggerName().startsWith("io.quarkiverse.leader"))
            .assertLogRecords(records -> assertThat(records).anySatisfy(
                    r -> assertThat(((ExtLogRecord) r).getFormattedMessage()).contains(EXPECTED)));

    @Inject
    LeaderElection election;

    @Test
    void sendsFailWithTheDdl() {
        assertThatThrownBy(() -> election.sendAndAwait("orders", "x")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(EXPECTED)
                .hasMessageContaining("CREATE FUNCTION \"public\".\"missing_send\"(channel text, payload text)");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(TestPostgres
                .sql("SELECT to_regclass('missing_messages') IS NULL").get(0).getBoolean(0)).isTrue());
    }

    static class Orders {

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
        }
    }
}
