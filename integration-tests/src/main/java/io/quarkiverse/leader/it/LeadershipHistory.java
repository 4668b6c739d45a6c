package io.quarkiverse.leader.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.quarkiverse.leader.LeadershipChanged;

/**
 * Every leadership transition of this instance, with its wall-clock time, so that a test can line up instances.
 */
@ApplicationScoped
public class LeadershipHistory {

    public record Transition(boolean leader, long epochMillis) {
    }

    private final List<Transition> transitions = new CopyOnWriteArrayList<>();

    void onChange(@Observes LeadershipChanged change) {
        transitions.add(new Transition(change.isLeader(), System.currentTimeMillis()));
    }

    List<Transition> transitions() {
        return transitions;
    }
}
