package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code @OnLeaderNotification} methods, sorted by channel: all of the application's, or one election's.
 */
public final class NotificationMethods {

    private final List<NotificationMethod> methods;

    public NotificationMethods(List<NotificationMethod> methods) {
        this.methods = List.copyOf(methods);
    }

    public List<NotificationMethod> all() {
        return methods;
    }

    /** The methods of one election. */
    public NotificationMethods forElection(String election) {
        return new NotificationMethods(methods.stream().filter(m -> m.election.equals(election)).toList());
    }

    /** The distinct channels of plain notifications, which the leader LISTENs on, in a stable order. */
    public List<String> channels() {
        TreeSet<String> channels = new TreeSet<>();
        plain().forEach(m -> channels.add(m.channel));
        return List.copyOf(channels);
    }

    /** Every channel of these methods, plain and durable, in a stable order. */
    public List<String> allChannels() {
        TreeSet<String> channels = new TreeSet<>();
        methods.forEach(m -> channels.add(m.channel));
        return List.copyOf(channels);
    }

    /** The methods of plain notifications, which the dispatcher routes. */
    public List<NotificationMethod> plain() {
        return methods.stream().filter(m -> !m.durable).toList();
    }

    /** The durable methods: one per channel and election, as the build made sure. */
    public List<NotificationMethod> durable() {
        return methods.stream().filter(m -> m.durable).toList();
    }

    /** Each durable channel with the method that declares it, for the error of notify() on one. */
    public Map<String, String> durableChannels() {
        return byChannel(durable());
    }

    /** Each plain channel with the methods that declare it, for the error of send() on one. */
    public Map<String, String> plainChannels() {
        return byChannel(plain());
    }

    private static Map<String, String> byChannel(List<NotificationMethod> methods) {
        Map<String, String> channels = new TreeMap<>();
        methods.forEach(m -> channels.merge(m.channel, m.description, (a, b) -> a + " and " + b));
        return channels;
    }
}
