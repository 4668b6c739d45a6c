package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Vertx;

/**
 * Two elections in one JVM, each on its own session, compete for one lock: exactly one leads, and when it stops the
 * other takes over, with either acquisition strategy.
 */
class TwoElectionsTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest();

    @Inject
    Vertx vertx;

    @ParameterizedTest
    @ValueSource(strings = { "WAIT", "POLL" }) // names: the enum itself lives in another class loader here
    void oneLeadsAndTheOtherTakesOver(String strategy) {
        AcquireStrategy acquire = AcquireStrategy.valueOf(strategy);
        long lock = TestPostgres.uniqueLock();
        RecordingListener a = new RecordingListener();
        RecordingListener b = new RecordingListener();
        ElectionSession first = new ElectionSession(vertx, TestElections.options("first", lock, acquire, List.of()), a);
        ElectionSession second = new ElectionSession(vertx, TestElections.options("second", lock, acquire, List.of()), b);
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
            assertThat(b.terms).containsExactly(a.terms.get(0) + 1); // the next term of the lock
            assertThat(TestPostgres.lockHolders(lock)).isEqualTo(1);
        } finally {
            TestPostgres.await(first.stop());
            TestPostgres.await(second.stop());
        }
        assertThat(TestPostgres.lockHolders(lock)).isZero();
        assertThat(b.changes).containsExactly(true, false);
    }
}
