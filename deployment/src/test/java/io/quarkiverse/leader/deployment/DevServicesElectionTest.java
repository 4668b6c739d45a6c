package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.ContainerRuntime;
import io.quarkus.test.QuarkusUnitTest;

/**
 * With no URL configured, Dev Services starts a PostgreSQL container for the default and for a named datasource, and
 * an election runs on each: it leads and its handlers receive what is sent. Skipped, with the reason printed, where
 * no container runtime works.
 */
@ExtendWith(ContainerRuntime.class)
class DevServicesElectionTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(Handlers.class))
            .overrideConfigKey("quarkus.datasource.db-kind", "postgresql")
            .overrideConfigKey("quarkus.datasource.\"audit\".db-kind", "postgresql")
            .overrideConfigKey("quarkus.leader.audit.datasource", "audit")
            .overrideConfigKey("quarkus.http.test-port", "0");

    @Inject
    LeaderElection defaultElection;

    @Inject
    @Election("audit")
    LeaderElection audit;

    @Inject
    Handlers handlers;

    @Test
    void electionsLeadAndReceiveOnDevServicesDatabases() {
        await().atMost(Duration.ofSeconds(30)).until(() -> defaultElection.isLeader() && audit.isLeader());

        defaultElection.notifyAndAwait("dev-events", "on the default datasource");
        audit.notifyAndAwait("dev-audit", "on the audit datasource");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(handlers.events).containsExactly("on the default datasource");
            assertThat(handlers.audits).containsExactly("on the audit datasource");
        });
    }

    @Singleton
    static class Handlers {

        final List<String> events = new CopyOnWriteArrayList<>();
        final List<String> audits = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("dev-events")
        void onEvent(String payload) {
            events.add(payload);
        }

        @OnLeaderNotification(value = "dev-audit", election = "audit")
        void onAudit(String payload) {
            audits.add(payload);
        }
    }
}
