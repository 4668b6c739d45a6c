package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.function.Supplier;

import io.quarkiverse.leader.LeaderElection;
import io.quarkus.arc.Arc;
import io.quarkus.runtime.annotations.Recorder;
import io.quarkus.runtime.shutdown.ShutdownListener;

@Recorder
public class LeaderRecorder {

    public Supplier<NotificationMethods> notificationMethods(List<NotificationMethod> methods) {
        return () -> new NotificationMethods(methods);
    }

    public Supplier<ElectionNames> electionNames(List<String> names) {
        return () -> new ElectionNames(names);
    }

    public Supplier<LeaderElection> election(String name) {
        return () -> Arc.container().instance(LeaderElections.class).get().election(name);
    }

    public ShutdownListener shutdownListener() {
        return new LeaderShutdownListener();
    }
}
