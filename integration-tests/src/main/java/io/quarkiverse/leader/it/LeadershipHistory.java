package io.quarkiverse.leader.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeadershipChanged;

/**
 * Every leadership transition of this instance in the default election, with the wall-clock time it took effect and its
 * term, so that a test can line up instances. With {@code sample.history-file} set, each transition is also appended to
 * that file as it happens, so that the history of an instance outlives its process.
 */
@ApplicationScoped
public class LeadershipHistory {

    public record Transition(boolean leader, long epochMillis, long term) {

        static Transition of(LeadershipChanged change) {
            return new Transition(change.isLeader(), change.timestamp().toEpochMilli(), change.term());
        }
    }

    private final List<Transition> transitions = new CopyOnWriteArrayList<>();

    @ConfigProperty(name = "sample.history-file")
    Optional<Path> file;

    void onChange(@Observes @Election(LeaderElection.DEFAULT_NAME) LeadershipChanged change) {
        Transition transition = Transition.of(change);
        transitions.add(transition);
        file.ifPresent(path -> append(path, transition));
    }

    List<Transition> transitions() {
        return transitions;
    }

    private static synchronized void append(Path path, Transition transition) {
        try {
            Files.writeString(path, transition.leader() + " " + transition.epochMillis() + " " + transition.term() + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
