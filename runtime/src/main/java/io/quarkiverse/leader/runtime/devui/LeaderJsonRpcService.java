package io.quarkiverse.leader.runtime.devui;

import java.util.List;
import java.util.Optional;

import jakarta.inject.Inject;

import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.runtime.LeaderElectionImpl;
import io.quarkiverse.leader.runtime.LeaderElections;
import io.quarkiverse.leader.runtime.NotificationMethods;
import io.smallrye.mutiny.Uni;

/**
 * What the Dev UI card shows and does: each election with its role and current leader, the methods bound to its
 * channels, and a test notification.
 */
public class LeaderJsonRpcService {

    /** Lock keys and terms are strings: JavaScript numbers cannot hold every 64-bit value. */
    public record ElectionView(String name, String instanceId, String lock, String role, String leader, String term,
            String since, List<MethodView> methods) {
    }

    public record MethodView(String channel, String method, boolean ordered, String executionModel) {
    }

    @Inject
    LeaderElections elections;

    @Inject
    NotificationMethods methods;

    public Uni<List<ElectionView>> getElections() {
        return Uni.join().all(elections.all().stream().map(this::view).toList()).andFailFast();
    }

    public Uni<String> sendNotification(String election, String channel, String payload) {
        return elections.election(election).notify(channel, payload)
                .replaceWith("Sent on channel " + channel + " (" + election + ")");
    }

    private Uni<ElectionView> view(LeaderElectionImpl election) {
        List<MethodView> bound = methods.forElection(election.name()).all().stream()
                .map(m -> new MethodView(m.channel, m.description, m.ordered, m.executionModel.name().toLowerCase()))
                .toList();
        return election.currentLeader()
                .onFailure().recoverWithItem(Optional.<LeaderInfo> empty())
                .map(leader -> new ElectionView(election.name(), election.instanceId(), Long.toString(election.lock()),
                        election.role(), leader.map(LeaderInfo::instanceId).orElse("none"),
                        leader.map(l -> Long.toString(l.term())).orElse(""),
                        leader.map(l -> l.since().toString()).orElse(""), bound));
    }
}
