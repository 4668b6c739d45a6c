package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * A leader that stops keeps the lock until its running handlers have finished, then unlocks and reports the change.
 */
class ShutdownDrainTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest();

    @Inject
    Vertx vertx;

    @Test
    void stopWaitsForRunningHandlersBeforeUnlocking() {
        long lock = TestPostgres.uniqueLock();
        Promise<Void> handlersDone = Promise.promise();
        RecordingListener listener = new RecordingListener();
        listener.drained = handlersDone.future();
        ElectionSession election = new ElectionSession(vertx, TestElections.options("drain", lock, AcquireStrategy.WAIT,
                List.of("drain_test")), listener);
        TestPostgres.await(election.start());
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);

        Future<Void> stopped = election.stop();
        assertThat(election.isLeader()).isFalse();
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> !stopped.isComplete() && TestPostgres.lockHolders(lock) == 1);
        assertThat(listener.changes).containsExactly(true);

        handlersDone.complete();
        TestPostgres.await(stopped);
        assertThat(TestPostgres.lockHolders(lock)).isZero();
        assertThat(listener.changes).containsExactly(true, false);
    }
}
