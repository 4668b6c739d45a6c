package io.quarkiverse.leader.runtime;

import java.time.Instant;

import io.vertx.core.Future;

/**
 * What an {@link ElectionSession} tells its owner; every call comes on the election's own context.
 */
public interface ElectionListener {

    /**
     * This instance has become leader, or has stopped being leader.
     *
     * @param term the term that has begun, or that has ended
     * @param at when the change took effect: for a lease that ran out, the moment it ran out
     * @return completed once observers have been told
     */
    Future<Void> leadershipChanged(boolean leader, long term, Instant at);

    /**
     * A notification has arrived while this instance leads.
     */
    void notification(String channel, String payload);

    /**
     * Leadership is being given up on shutdown: no new notification will arrive.
     *
     * @return completed once the handlers still running have finished, or the shutdown timeout has passed
     */
    Future<Void> drain();
}
