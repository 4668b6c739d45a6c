package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.TreeSet;

/**
 * Every {@code @OnLeaderNotification} method of the application, sorted by channel.
 */
public final class NotificationMethods {

    private final List<NotificationMethod> methods;

    public NotificationMethods(List<NotificationMethod> methods) {
        this.methods = List.copyOf(methods);
    }

    public List<NotificationMethod> all() {
        return methods;
    }

    /** The distinct channels the leader LISTENs on, in a stable order. */
    public List<String> channels() {
        TreeSet<String> channels = new TreeSet<>();
        methods.forEach(m -> channels.add(m.channel));
        return List.copyOf(channels);
    }
}
