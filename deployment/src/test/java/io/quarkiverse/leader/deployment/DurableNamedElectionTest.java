package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A named election has durable channels of its own, with its own quarkus.leader."name".durable.* settings: its
 * messages go to its table and reach its leader's method, and its own wake-up channel wakes it.
 */
class DurableNamedElectionTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Jobs.class)
            .overrideConfigKey("quarkus.leader.jobs.lock", Long.toString(TestPostgres.uniqueLock()))
            .overrideConfigKey("quarkus.leader.jobs.durable.table",
                    TestPostgres.freshDurableStorage("named_test_messages", "named_test_send"))
            .overrideConfigKey("quarkus.leader.jobs.durable.function", "named_test_send")
            .overrideConfigKey("quarkus.leader.jobs.durable.wakeup-channel", "named_test_wakeup")
            .overrideConfigKey("quarkus.leader.jobs.durable.poll-interval", "1h") // the wake-up alone delivers
            .overrideConfigKey("quarkus.leader.jobs.durable.max-payload-size", "10");

    @Inject
    @Election("jobs")
    LeaderElection jobs;

    @Inject
    Jobs handler;

    @Test
    void theNamedElectionsOwnSettingsAndLeader() {
        await().atMost(Duration.ofSeconds(10)).until(jobs::isLeader);
        jobs.sendAndAwait("work", "ready"); // the table exists from here on, and the drain at leadership is done
        long id = jobs.sendAndAwait("work", "job-1");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(handler.received).contains("job-1"));
        assertThat(id).isPositive();
        assertThat(TestPostgres.sql("SELECT to_regprocedure('named_test_send(text,text)') IS NOT NULL").get(0)
                .getBoolean(0)).isTrue();
        assertThatThrownBy(() -> jobs.sendAndAwait("work", "x".repeat(11)))
                .hasMessageContaining("quarkus.leader.\"jobs\".durable.max-payload-size allows at most 10");
    }

    static class Jobs {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "work", durable = true, election = "jobs")
        void onWork(String payload) {
            received.add(payload);
        }
    }
}
