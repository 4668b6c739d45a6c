package io.quarkiverse.leader.it;

import java.util.concurrent.CountDownLatch;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeadershipChanged;

/**
 * With {@code sample.stuck-observer=true}, an observer that never returns from the end of leadership: the shutdown
 * must still end, bounded by {@code quarkus.leader.observer-timeout}, and hand over.
 */
@ApplicationScoped
public class StuckObserver {

    private final CountDownLatch never = new CountDownLatch(1);

    @ConfigProperty(name = "sample.stuck-observer", defaultValue = "false")
    boolean stuck;

    void onChange(@Observes @Election(LeaderElection.DEFAULT_NAME) LeadershipChanged change) throws InterruptedException {
        if (stuck && !change.isLeader()) {
            never.await();
        }
    }
}
