package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.function.Supplier;

import io.quarkus.runtime.annotations.Recorder;

@Recorder
public class LeaderRecorder {

    public Supplier<NotificationMethods> notificationMethods(List<NotificationMethod> methods) {
        return () -> new NotificationMethods(methods);
    }
}
