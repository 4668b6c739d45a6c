package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.common.annotation.NonBlocking;

/**
 * A {@code @NonBlocking} handler that keeps its event loop busy for twice the lease does not end leadership: the
 * election's session and timers run on an event loop of their own.
 */
class BusyEventLoopTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Busy.class)
            .overrideConfigKey("quarkus.leader.heartbeat", "100ms")
            .overrideConfigKey("quarkus.leader.lease", "1s");

    @Inject
    LeaderElection election;

    @Inject
    Busy busy;

    @Test
    void aBusyHandlerDoesNotEndLeadership() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        election.notifyAndAwait("busy", "2000");
        await().atMost(Duration.ofSeconds(10)).until(() -> busy.finished);
        assertThat(busy.ledThroughout).as("isLeader() stayed true while the handler kept its event loop busy").isTrue();
        assertThat(busy.changes).containsExactly(true);
        assertThat(election.isLeader()).isTrue();
    }

    @Singleton
    static class Busy {

        @Inject
        LeaderElection election;

        final List<Boolean> changes = new CopyOnWriteArrayList<>();
        volatile boolean finished;
        volatile boolean ledThroughout = true;

        @NonBlocking
        @OnLeaderNotification("busy")
        void spin(String millis) {
            long end = System.nanoTime() + Duration.ofMillis(Long.parseLong(millis)).toNanos();
            while (System.nanoTime() - end < 0) {
                if (!election.isLeader()) {
                    ledThroughout = false;
                }
            }
            finished = true;
        }

        void onChange(@Observes LeadershipChanged change) {
            changes.add(change.isLeader());
        }
    }
}
