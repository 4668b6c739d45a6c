package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.runtime.Election;
import io.quarkiverse.leader.runtime.ElectionListener;
import io.quarkiverse.leader.runtime.ElectionOptions;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Two elections in one JVM, each on its own session, compete for one lock: exactly one leads, and when it stops the
 * other takes over, with either acquisition strategy.
 */
class TwoElectionsTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Recorder.class)
            .overrideConfigKey("quarkus.leader.enabled", "false");

    @Inject
    Vertx vertx;

    @ParameterizedTest
    @ValueSource(strings = { "WAIT", "POLL" }) // names: the enum itself lives in another class loader here
    void oneLeadsAndTheOtherTakesOver(String strategy) {
        AcquireStrategy acquire = AcquireStrategy.valueOf(strategy);
        long lock = TestPostgres.uniqueLock();
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        Election first = new Election(vertx, options("first", lock, acquire), a);
        Election second = new Election(vertx, options("second", lock, acquire), b);
        try {
            TestPostgres.await(first.start());
            await().atMost(Duration.ofSeconds(10)).until(first::isLeader);
            TestPostgres.await(second.start());
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(() -> first.isLeader() && !second.isLeader());
            assertThat(TestPostgres.lockHolders(lock)).isEqualTo(1);

            TestPostgres.await(first.stop());
            assertThat(first.isLeader()).isFalse();
            assertThat(a.changes).containsExactly(true, false);
            await().atMost(Duration.ofSeconds(5)).until(second::isLeader);
            assertThat(b.changes).containsExactly(true);
            assertThat(TestPostgres.lockHolders(lock)).isEqualTo(1);
        } finally {
            TestPostgres.await(first.stop());
            TestPostgres.await(second.stop());
        }
        assertThat(TestPostgres.lockHolders(lock)).isZero();
        assertThat(b.changes).containsExactly(true, false);
    }

    private static ElectionOptions options(String instanceId, long lock, AcquireStrategy acquire) {
        PgConnectOptions connect = PgConnectOptions.fromUri(TestPostgres.url())
                .addProperty("application_name", "leader:" + instanceId);
        return new ElectionOptions(connect, lock, instanceId, List.of(), acquire, Duration.ofMillis(200),
                Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofMillis(50), Duration.ofMillis(500));
    }

    static class Recorder implements ElectionListener {

        final List<Boolean> changes = new CopyOnWriteArrayList<>();

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
            return Future.succeededFuture();
        }
    }
}
