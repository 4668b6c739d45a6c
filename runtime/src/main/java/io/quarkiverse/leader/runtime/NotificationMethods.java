package io.quarkiverse.leader.runtime;

import java.util.List;
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

    /** The distinct channels the leader LISTENs on, in a stable order. */
    public List<String> channels() {
        TreeSet<String> channels = new TreeSet<>();
        methods.forEach(m -> channels.add(m.channel));
        return List.copyOf(channels);
    }
}
