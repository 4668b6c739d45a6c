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

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionListener;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * On every path the old leader's observers hear of the end of its leadership, and return, before the lock can pass:
 * a graceful stop and a lease that ran out alike. An observer that never returns holds the hand-over up by
 * {@code observer-timeout} only.
 */
class StepDownOrderTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest();

    /** How long the old leader's observers take to return. */
    static final long OBSERVER_MILLIS = 700;

    @Inject
    Vertx vertx;

    @Test
    void aGracefulStopTellsTheObserversBeforeTheLockPasses() {
        long lock = TestPostgres.uniqueLock();
        SlowObservers observers = new SlowObservers(vertx, OBSERVER_MILLIS);
        ElectionSession leader = session(vertx, "graceful-leader", lock, observers);
        TimedListener next = new TimedListener();
        ElectionSession follower = session(vertx, "graceful-follower", lock, next);
        try {
            leadThenWait(leader, follower);
            Future<Void> stopped = leader.stop();
            // told just after isLeader() turned true
            await().atMost(Duration.ofSeconds(10)).until(() -> follower.isLeader() && next.acquiredAt != null);
            assertThat(observers.returnedAt).as("the observers returned before the follower took over").isNotNull();
            assertThat(next.acquiredAt).isAfterOrEqualTo(observers.returnedAt);
            TestPostgres.await(stopped);
            assertThat(observers.changes).containsExactly(true, false);
        } finally {
            TestPostgres.await(follower.stop());
            TestPostgres.await(leader.stop());
        }
    }

    @Test
    void aLeaseThatRanOutTellsTheObserversBeforeTheLockPasses() {
        long lock = TestPostgres.uniqueLock();
        Vertx stalled = Vertx.vertx(); // the old leader's own event loop, which the test blocks
        SlowObservers observers = new SlowObservers(vertx, OBSERVER_MILLIS);
        ElectionSession leader = session(stalled, "stalled-leader", lock, observers);
        TimedListener next = new TimedListener();
        ElectionSession follower = session(vertx, "stalled-follower", lock, next);
        try {
            leadThenWait(leader, follower);
            // longer than the lease of 2 s: the session stays alive, the lease runs out unconfirmed
            leader.context().runOnContext(v -> sleep(2500));
            await().atMost(Duration.ofSeconds(15)).until(() -> follower.isLeader() && next.acquiredAt != null);
            assertThat(observers.returnedAt).as("the observers returned before the follower took over").isNotNull();
            assertThat(next.acquiredAt).isAfterOrEqualTo(observers.returnedAt);
            assertThat(observers.changes).startsWith(true, false);
            assertThat(leader.isLeader()).isFalse();
        } finally {
            TestPostgres.await(follower.stop());
            TestPostgres.await(leader.stop());
            TestPostgres.await(stalled.close());
        }
    }

    @Test
    void anObserverThatNeverReturnsHoldsTheHandOverUpByTheObserverTimeoutOnly() {
        long lock = TestPostgres.uniqueLock();
        SlowObservers observers = new SlowObservers(vertx, Long.MAX_VALUE);
        ElectionSession leader = session(vertx, "stuck-leader", lock, observers);
        TimedListener next = new TimedListener();
        ElectionSession follower = session(vertx, "stuck-follower", lock, next);
        try {
            leadThenWait(leader, follower);
            Instant stoppedAt = Instant.now();
            Future<Void> stopped = leader.stop();
            // observer-timeout is 2 s in these tests
            await().atMost(Duration.ofSeconds(6)).until(stopped::isComplete);
            assertThat(stopped.succeeded()).isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> follower.isLeader() && next.acquiredAt != null);
            assertThat(next.acquiredAt).isAfterOrEqualTo(stoppedAt.plusMillis(1900));
            assertThat(TestPostgres.lockHolders(lock)).isEqualTo(1);
        } finally {
            TestPostgres.await(follower.stop());
        }
    }

    private static ElectionSession session(Vertx vertx, String id, long lock, ElectionListener listener) {
        return new ElectionSession(vertx, TestElections.options(id, lock, AcquireStrategy.WAIT, List.of()), listener);
    }

    private static void leadThenWait(ElectionSession leader, ElectionSession follower) {
        TestPostgres.await(leader.start());
        await().atMost(Duration.ofSeconds(10)).until(leader::isLeader);
        TestPostgres.await(follower.start());
        await().atMost(Duration.ofSeconds(10)).until(follower::connected);
        assertThat(follower.isLeader()).isFalse();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Records when this instance became leader. */
    static final class TimedListener extends RecordingListener {

        volatile Instant acquiredAt;

        @Override
        public Future<Void> leadershipChanged(boolean leader, long term, Instant at) {
            if (leader && acquiredAt == null) {
                acquiredAt = Instant.now();
            }
            return super.leadershipChanged(leader, term, at);
        }
    }

    /** Observers that take {@code millis} to return from the end of leadership, and record when they did. */
    static final class SlowObservers implements ElectionListener {

        final List<Boolean> changes = new CopyOnWriteArrayList<>();
        final Vertx vertx;
        final long millis;
        volatile Instant returnedAt;

        SlowObservers(Vertx vertx, long millis) {
            this.vertx = vertx;
            this.millis = millis;
        }

        @Override
        public Future<Void> leadershipChanged(boolean leader, long term, Instant at) {
            changes.add(leader);
            if (leader) {
                return Future.succeededFuture();
            }
            Promise<Void> returned = Promise.promise();
            if (millis != Long.MAX_VALUE) {
                vertx.setTimer(millis, id -> {
                    returnedAt = Instant.now();
                    returned.complete();
                });
            }
            return returned.future();
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
