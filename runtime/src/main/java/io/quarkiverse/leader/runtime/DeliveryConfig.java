package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import io.quarkus.runtime.annotations.ConfigDocMapKey;
import io.smallrye.config.WithDefault;

/**
 * How the leader passes notifications to the {@code @OnLeaderNotification} methods of an election: each method has a
 * mailbox of its own, bounded, with a policy for what a full mailbox drops.
 */
public interface DeliveryConfig {

    /**
     * How many notifications one method's mailbox holds while they wait for the method, besides the calls running. A
     * notification that arrives when it is full is dropped, or makes room by dropping the oldest waiting one, as
     * {@code overflow} says; either way it is counted in {@code leader.notifications.dropped} (reason
     * {@code overflow}). At most {@code queue-size} payloads of up to 8000 bytes each are kept per method.
     */
    @WithDefault("10000")
    int queueSize();

    /**
     * What a full mailbox drops. {@code drop-oldest}: the notification that has waited longest makes room for the one
     * arriving, so that after a burst the method ends on the latest notifications. {@code drop-newest}: the arriving
     * notification is dropped and the waiting ones are kept.
     */
    @WithDefault("drop-oldest")
    Overflow overflow();

    /**
     * For a method with {@code ordered = false}: how many of its calls may run at once. Further notifications wait in
     * its mailbox. Ordered methods run one call at a time whatever this says.
     */
    @WithDefault("16")
    int maxConcurrency();

    /**
     * How long a call may run before it is abandoned: it is counted in {@code leader.notifications.dropped} (reason
     * {@code timeout}) and logged, and its place is freed, so the method's next notification runs. An abandoned call
     * is not interrupted: it may still be running, and one that was still waiting for a thread is skipped. Unset: calls
     * may run for as long as they take.
     */
    Optional<Duration> handlerTimeout();

    /**
     * Settings for the methods of one channel; each one unset falls back to the election's. The channel must be one
     * that a method of the election listens on.
     */
    @ConfigDocMapKey("channel")
    Map<String, ChannelDelivery> channels();

    /**
     * The delivery settings of one channel.
     */
    interface ChannelDelivery {

        /**
         * {@code queue-size} for the methods of this channel.
         */
        OptionalInt queueSize();

        /**
         * {@code overflow} for the methods of this channel.
         */
        Optional<Overflow> overflow();

        /**
         * {@code max-concurrency} for the unordered methods of this channel.
         */
        OptionalInt maxConcurrency();

        /**
         * {@code handler-timeout} for the methods of this channel.
         */
        Optional<Duration> handlerTimeout();
    }

    /**
     * What a full mailbox drops.
     */
    enum Overflow {
        /**
         * The notification that has waited longest, to make room for the arriving one.
         */
        DROP_OLDEST,
        /**
         * The arriving notification.
         */
        DROP_NEWEST
    }
}
