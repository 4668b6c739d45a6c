package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.runtime.Election;
import io.quarkiverse.leader.runtime.ElectionListener;
import io.quarkiverse.leader.runtime.ElectionOptions;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

/**
 * A leader that stops keeps the lock until its running handlers have finished, then unlocks and reports the change.
 */
class ShutdownDrainTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.enabled", "false");

    @Inject
    Vertx vertx;

    @Test
    void stopWaitsForRunningHandlersBeforeUnlocking() {
        long lock = TestPostgres.uniqueLock();
        Promise<Void> handlersDone = Promise.promise();
        List<Boolean> changes = new CopyOnWriteArrayList<>();
        ElectionListener listener = new ElectionListener() {
            @Override
            public Future<Void> leadershipChanged(boolean leader, Instant at) {
                changes.add(leader);
                return Future.succeededFuture();
            }

            @Override
            public void notification(String channel, String payload) {
            }

            @Override
            public Future<Void> drain() {
                return handlersDone.future();
            }
        };
        PgConnectOptions connect = PgConnectOptions.fromUri(TestPostgres.url());
        Election election = new Election(vertx, new ElectionOptions(connect, lock, "drain", List.of("drain_test"),
                AcquireStrategy.WAIT, Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofSeconds(2),
                Duration.ofMillis(50), Duration.ofMillis(500)), listener);
        TestPostgres.await(election.start());
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);

        Future<Void> stopped = election.stop();
        assertThat(election.isLeader()).isFalse();
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> !stopped.isComplete() && TestPostgres.lockHolders(lock) == 1);
        assertThat(changes).containsExactly(true);

        handlersDone.complete();
        TestPostgres.await(stopped);
        assertThat(TestPostgres.lockHolders(lock)).isZero();
        assertThat(changes).containsExactly(true, false);
    }
}
