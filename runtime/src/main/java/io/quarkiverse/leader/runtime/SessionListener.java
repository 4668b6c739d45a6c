package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.time.Instant;

import io.quarkiverse.leader.LeadershipChanged;
import io.vertx.core.Future;

/** Turns an election session's reports into CDI events and dispatches its notifications. */
final class SessionListener implements ElectionListener {

    private final String name;
    private final String instanceId;
    private final long lock;
    private final LeadershipEvents leadershipEvents;
    private final LeaderMetrics metrics;
    private final Duration shutdownTimeout;
    ElectionSession election;
    NotificationDispatcher dispatcher;
    DurableDelivery durable; // null without durable methods

    SessionListener(String name, String instanceId, long lock, LeadershipEvents leadershipEvents, LeaderMetrics metrics,
            Duration shutdownTimeout) {
        this.name = name;
        this.instanceId = instanceId;
        this.lock = lock;
        this.leadershipEvents = leadershipEvents;
        this.metrics = metrics;
        this.shutdownTimeout = shutdownTimeout;
    }

    @Override
    public Future<Void> leadershipChanged(boolean leader, long term, Instant at) {
        if (!leader) {
            dispatcher.endTerm();
        }
        if (durable != null) {
            if (leader) {
                durable.start(); // it listens on the wake-up channel already: a commit from now on wakes it
            } else {
                durable.stop();
            }
        }
        metrics.leadershipChanged(name, leader, leader ? election.lastAcquireTime() : null);
        return leadershipEvents.fire(new LeadershipChanged(name, leader, instanceId, lock, term, at));
    }

    @Override
    public void notification(String channel, String payload) {
        if (durable != null && durable.isWakeup(channel)) {
            durable.wake(payload);
            return;
        }
        dispatcher.dispatch(channel, payload);
    }

    @Override
    public Future<Void> drain() {
        if (durable != null) { // both bounded by the same timeout, side by side
            return Future.join(dispatcher.drain(shutdownTimeout), durable.drain(shutdownTimeout)).mapEmpty();
        }
        return dispatcher.drain(shutdownTimeout);
    }
}
