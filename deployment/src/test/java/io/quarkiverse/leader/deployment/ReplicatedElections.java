package io.quarkiverse.leader.deployment;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.quarkiverse.leader.runtime.ElectionListener;
import io.vertx.core.Future;

/**
 * What the replication tests record of an election: every leadership change with its term and the moment
 * ({@link System#nanoTime()}) it was reported.
 */
final class ReplicatedElections {

    private ReplicatedElections() {
    }

    /** One leadership change. */
    record Change(boolean leader, long term, long nanos) {
    }

    /** Records the changes it is told of. */
    static final class Changes implements ElectionListener {

        final List<Change> changes = new CopyOnWriteArrayList<>();

        @Override
        public Future<Void> leadershipChanged(boolean leader, long term, Instant at) {
            changes.add(new Change(leader, term, System.nanoTime()));
            return Future.succeededFuture();
        }

        @Override
        public void notification(String channel, String payload) {
        }

        @Override
        public Future<Void> drain() {
            return Future.succeededFuture();
        }

        /** The last change, or null before the first. */
        Change last() {
            return changes.isEmpty() ? null : changes.get(changes.size() - 1);
        }

        boolean leads() {
            Change last = last();
            return last != null && last.leader();
        }
    }
}
