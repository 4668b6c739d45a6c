package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
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
 * When the failure of a message cannot be written to its row (here a trigger refuses the update), its attempts do not
 * count; the channel then pauses with a growing delay instead of calling the method again at every poll, and once the
 * storage records again the message goes on to its dead letter as usual.
 */
class DurableUnrecordedFailureTest {

    static final String TABLE = "unrecorded_test_messages";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Failing.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "unrecorded_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "unrecorded_test_send")
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "20ms")
            .overrideConfigKey("quarkus.leader.durable.retry-initial-delay", "200ms")
            .overrideConfigKey("quarkus.leader.durable.retry-max-delay", "1s")
            .overrideConfigKey("quarkus.leader.durable.max-attempts", "2");

    @Inject
    LeaderElection election;

    @Inject
    Failing failing;

    @Test
    void theChannelPausesWhileFailuresCannotBeRecorded() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait("other", "creates the table");
        TestPostgres.sql("CREATE OR REPLACE FUNCTION unrecorded_test_refuse() RETURNS trigger LANGUAGE plpgsql AS"
                + " $$BEGIN RAISE EXCEPTION 'updates refused'; END$$");
        TestPostgres.sql("CREATE TRIGGER refuse_updates BEFORE UPDATE ON " + TABLE
                + " FOR EACH ROW EXECUTE FUNCTION unrecorded_test_refuse()");
        try {
            long id = election.sendAndAwait("failing", "never handled");
            await().atMost(Duration.ofSeconds(5)).until(() -> failing.calls.get() >= 1);
            // polled every 20 ms, it would be called about 100 times in these two seconds; paused 200, 400, 800 ms
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> failing.calls.get() <= 6);
            assertThat(TestPostgres.sql("SELECT attempts FROM " + TABLE + " WHERE id = $1", id).get(0).getInteger(0))
                    .isZero();

            TestPostgres.sql("DROP TRIGGER refuse_updates ON " + TABLE);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                    election.deadLetters("failing").await().atMost(Duration.ofSeconds(5))).singleElement()
                    .satisfies(letter -> assertThat(letter.id()).isEqualTo(id)));
        } finally {
            TestPostgres.sql("DROP TRIGGER IF EXISTS refuse_updates ON " + TABLE);
            TestPostgres.sql("DROP FUNCTION IF EXISTS unrecorded_test_refuse()");
        }
    }

    static class Failing {

        final AtomicInteger calls = new AtomicInteger();

        @OnLeaderNotification(value = "failing", durable = true)
        void onMessage(String payload) {
            calls.incrementAndGet();
            throw new IllegalStateException("always");
        }

        @OnLeaderNotification(value = "other", durable = true)
        void onOther(String payload) {
        }
    }
}
