package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.function.Supplier;

import io.quarkus.runtime.annotations.Recorder;
import io.quarkus.runtime.shutdown.ShutdownListener;

@Recorder
public class LeaderRecorder {

    public Supplier<NotificationMethods> notificationMethods(List<NotificationMethod> methods) {
        return () -> new NotificationMethods(methods);
    }

    public ShutdownListener shutdownListener() {
        return new LeaderShutdownListener();
    }
}
