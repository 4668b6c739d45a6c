package io.quarkiverse.leader.runtime;

import java.time.Duration;

/**
 * What the election reports to a metrics system; nothing unless the application has one.
 */
public interface LeaderMetrics {

    LeaderMetrics NONE = new LeaderMetrics() {
    };

    /** This instance became leader (after waiting {@code acquireTime} since its session opened) or stopped leading. */
    default void leadershipChanged(boolean leader, Duration acquireTime) {
    }

    /** A notification reached the leader on {@code channel}. */
    default void received(String channel) {
    }

    /** A handler finished with a notification. */
    default void handled(String channel, String method, long nanos, boolean failed) {
    }
}
