package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;

/**
 * What the election reports to a metrics system; nothing unless the application has one.
 */
public interface LeaderMetrics {

    LeaderMetrics NONE = new LeaderMetrics() {
    };

    /** This instance joined {@code election}: it follows until it leads. */
    default void joined(String election) {
    }

    /**
     * This instance became leader of {@code election} (after waiting {@code acquireTime} since its session opened) or
     * stopped leading it.
     */
    default void leadershipChanged(String election, boolean leader, Duration acquireTime) {
    }

    /** A notification reached the leader of {@code election} on {@code channel}. */
    default void received(String election, String channel) {
    }

    /**
     * {@code count} notifications for a handler of {@code election} were dropped unhandled, for {@code reason}: neither a
     * success nor a failure of the handler.
     */
    default void dropped(String election, String channel, String method, DropReason reason, int count) {
    }

    /**
     * A handler of {@code election} has a mailbox, whose number of waiting notifications {@code depth} reads from any
     * thread; called once per handler, when the election starts.
     */
    default void mailbox(String election, String channel, String method, IntSupplier depth) {
    }

    /** A handler of {@code election} finished with a notification. */
    default void handled(String election, String channel, String method, long nanos, boolean failed) {
    }

    /** The backlog of a durable channel, as the leader last counted it; {@code NaN} on an instance that does not lead. */
    default void durableBacklog(String election, String channel, DoubleSupplier backlog) {
    }

    /** A durable message was handed to its method {@code sinceSent} after it was stored. */
    default void durableHandedOver(String election, String channel, String method, Duration sinceSent) {
    }

    /** {@code count} durable messages were handled and acknowledged. */
    default void durableDelivered(String election, String channel, String method, int count) {
    }

    /** A durable method failed on a message, which is retried. */
    default void retried(String election, String channel, String method) {
    }

    /** A durable message became a dead letter. */
    default void deadLettered(String election, String channel, String method) {
    }
}
