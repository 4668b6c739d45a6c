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
 * A message whose wake-up never came (a row inserted without the send function) is delivered by the periodic check.
 */
class DurableMissedWakeupTest {

    static final String TABLE = "missed_test_messages";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Quiet.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "missed_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "missed_test_send")
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "300ms");

    @Inject
    LeaderElection election;

    @Inject
    Quiet quiet;

    @Test
    void thePeriodicCheckDeliversWithoutAWakeup() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait("quiet", "with wake-up"); // the table exists from here on
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(quiet.received).containsExactly("with wake-up"));

        TestPostgres.sql("INSERT INTO " + TABLE + " (channel, payload) VALUES ('quiet', 'no wake-up')");
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(quiet.received).containsExactly("with wake-up", "no wake-up"));
    }

    static class Quiet {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "quiet", durable = true)
        void onMessage(String payload) {
            received.add(payload);
        }
    }
}
