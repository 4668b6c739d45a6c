package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.PgBouncer;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Behind PgBouncer in session mode the election leads, holds its lock on the server, and hears notifications: no
 * false refusal.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.PgBouncer#installed", disabledReason = PgBouncer.MISSING)
class SessionPoolerTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = PooledElection.behind(PgBouncer.of("session", 4),
            LeaderUnitTest.create(PgBouncer.class, PooledElection.class, Received.class))
            // the election's session, the check's second connection and the pool fit in the pooler's 4
            .overrideConfigKey("quarkus.datasource.reactive.max-size", "2")
            .overrideConfigKey("quarkus.leader.heartbeat", "100ms")
            .overrideConfigKey("quarkus.leader.lease", "2s")
            .setLogRecordPredicate(r -> r.getLoggerName().startsWith("io.quarkiverse.leader"))
            .assertLogRecords(records -> assertThat(records).noneSatisfy(r -> assertThat(((ExtLogRecord) r)
                    .getFormattedMessage()).contains("connection pooler")));

    @Inject
    LeaderElection election;

    @Inject
    Received received;

    @Test
    void leadsAndHearsNotifications() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        assertThat(TestPostgres.lockHolders(election.lock())).isEqualTo(1);
        election.notifyAndAwait("pooled", "through the pooler");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(received.payloads)
                .containsExactly("through the pooler"));
        // ten heartbeats later, each on the same backend: still the leader
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(election::isLeader);
    }

    static class Received {

        final List<String> payloads = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("pooled")
        void on(String payload) {
            payloads.add(payload);
        }
    }
}
