package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.ElectionSettings.property;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

import io.quarkiverse.leader.runtime.DeliveryConfig.ChannelDelivery;
import io.quarkiverse.leader.runtime.DeliveryConfig.Overflow;

/**
 * The delivery settings of one channel's methods, its own where it sets them and the election's otherwise; and the
 * checks on an election's delivery settings, which name the property.
 */
record DeliverySettings(int queueSize, Overflow overflow, int maxConcurrency, Optional<Duration> handlerTimeout) {

    /** The settings of {@code channel}'s methods. */
    static DeliverySettings of(DeliveryConfig config, String channel) {
        ChannelDelivery own = config.channels().get(channel);
        if (own == null) {
            return new DeliverySettings(config.queueSize(), config.overflow(), config.maxConcurrency(),
                    config.handlerTimeout());
        }
        return new DeliverySettings(own.queueSize().orElse(config.queueSize()), own.overflow().orElse(config.overflow()),
                own.maxConcurrency().orElse(config.maxConcurrency()),
                own.handlerTimeout().or(config::handlerTimeout));
    }

    /**
     * What is wrong with an election's delivery settings, one message per property, empty when nothing is; a channel
     * setting must name one of the election's {@code channels}.
     */
    static List<String> problems(String election, DeliveryConfig config, List<String> channels) {
        List<String> problems = new ArrayList<>();
        check(problems, property(election, "delivery.queue-size"), config.queueSize());
        check(problems, property(election, "delivery.max-concurrency"), config.maxConcurrency());
        config.handlerTimeout().ifPresent(t -> check(problems, property(election, "delivery.handler-timeout"), t));
        // sorted: the messages come out in the same order on every start
        for (Map.Entry<String, ChannelDelivery> entry : new TreeMap<>(config.channels()).entrySet()) {
            String prefix = property(election, "delivery.channels.\"" + entry.getKey() + "\".");
            ChannelDelivery channel = entry.getValue();
            if (!channels.contains(entry.getKey())) {
                problems.add(prefix + firstSet(channel) + " is set for the channel '" + entry.getKey() + "', which no"
                        + " @OnLeaderNotification method of " + ElectionSettings.describe(election) + " listens on; its"
                        + " channels are " + channels);
                continue;
            }
            check(problems, prefix + "queue-size", channel.queueSize());
            check(problems, prefix + "max-concurrency", channel.maxConcurrency());
            channel.handlerTimeout().ifPresent(t -> check(problems, prefix + "handler-timeout", t));
        }
        return problems;
    }

    private static void check(List<String> problems, String property, OptionalInt value) {
        value.ifPresent(v -> check(problems, property, v));
    }

    private static void check(List<String> problems, String property, int value) {
        if (value < 1) {
            problems.add(property + " must be at least 1, got " + value);
        }
    }

    private static void check(List<String> problems, String property, Duration value) {
        if (value.toMillis() < 1) {
            problems.add(property + " must be at least 1ms, got " + value);
        }
    }

    /** The name of a setting the channel's entry has: the map has an entry only for a channel something is set for. */
    private static String firstSet(ChannelDelivery channel) {
        return channel.queueSize().isPresent() ? "queue-size"
                : channel.overflow().isPresent() ? "overflow"
                        : channel.maxConcurrency().isPresent() ? "max-concurrency" : "handler-timeout";
    }
}
