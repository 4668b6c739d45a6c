package io.quarkiverse.leader.runtime.devui;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

import jakarta.inject.Inject;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.runtime.LeaderElectionImpl;
import io.quarkiverse.leader.runtime.LeaderElections;
import io.quarkiverse.leader.runtime.NotificationMethod;
import io.quarkiverse.leader.runtime.NotificationMethods;
import io.smallrye.mutiny.Uni;

/**
 * What the Dev UI card shows and does: each election with its role and current leader, the methods bound to its
 * channels, and a test notification; each durable channel with its backlog and its dead letters, which it redelivers.
 */
public class LeaderJsonRpcService {

    /** Lock keys and terms are strings: JavaScript numbers cannot hold every 64-bit value. */
    public record ElectionView(String name, String instanceId, String lock, String role, String leader, String term,
            String since, List<MethodView> methods) {
    }

    public record MethodView(String channel, String method, boolean ordered, String executionModel, boolean durable) {
    }

    /**
     * A durable channel of an election. {@code backlog} is the pending messages as this instance last counted them
     * while leading; null on an instance that does not lead (only the leader counts) and before the leader's first
     * count.
     */
    public record DurableChannelView(String election, String role, String channel, String method, boolean ordered,
            boolean exactlyOnce, Long backlog) {
    }

    /**
     * Ids are strings, as lock keys are; a payload over 120 characters is cut short ({@code shortened}). The payload is
     * null, and its length -1, when it is larger than max-payload-size, which the last error then says.
     */
    public record DeadLetterView(String id, int attempts, String lastError, String payload, boolean shortened,
            int payloadLength) {
    }

    /** A page of a channel's dead letters, and whether another page follows it. */
    public record DeadLetterPage(List<DeadLetterView> letters, boolean more) {
    }

    public record RedeliverOutcome(boolean redelivered, String message) {
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

    /** Every election's durable channels, the default election first, each election's in channel order. */
    public List<DurableChannelView> getDurableChannels() {
        List<DurableChannelView> channels = new ArrayList<>();
        for (LeaderElectionImpl election : elections.all()) {
            String role = election.role();
            for (NotificationMethod method : methods.forElection(election.name()).durable()) {
                channels.add(new DurableChannelView(election.name(), role, method.channel, method.description,
                        method.ordered, method.fencedConnection, election.durableBacklog().get(method.channel)));
            }
        }
        return channels;
    }

    /**
     * The page of a channel's dead letters after {@code afterId} ({@code "0"} for the first), as
     * {@link LeaderElection#deadLetters(String, long)} pages them.
     */
    public Uni<DeadLetterPage> getDeadLetters(String election, String channel, String afterId) {
        return DeadLetterViews.page(elections.election(election), channel, DeadLetterViews.parseId(afterId))
                .map(page -> new DeadLetterPage(page.letters().stream().map(DeadLetterViews::view).toList(),
                        page.more()));
    }

    /** The whole payload of one dead letter, which {@link #getDeadLetters} shortens. */
    public Uni<String> getDeadLetterPayload(String election, String channel, String id) {
        long messageId = DeadLetterViews.parseId(id);
        // the page after the id before it starts with this one, if it is still a dead letter
        return elections.election(election).deadLetters(channel, messageId - 1)
                .map(letters -> {
                    DeadLetter letter = letters.stream().filter(l -> l.id() == messageId).findFirst()
                            .orElseThrow(() -> new NoSuchElementException("No dead letter " + id + " on channel '"
                                    + channel + "' of election " + election + ": it was redelivered or deleted meanwhile"));
                    if (letter.payload() == null) {
                        throw new IllegalStateException("The payload of dead letter " + id + " is larger than "
                                + "max-payload-size and was not read (its last error gives its size); read it with SQL");
                    }
                    return letter.payload();
                });
    }

    public Uni<RedeliverOutcome> redeliver(String election, String id) {
        long messageId = DeadLetterViews.parseId(id);
        return elections.election(election).redeliver(messageId)
                .map(back -> back
                        ? new RedeliverOutcome(true, "Message " + id + " of election " + election
                                + " is pending again: the leader hands it to its method")
                        : new RedeliverOutcome(false, "No dead letter " + id + " in election " + election
                                + ": it was redelivered or deleted meanwhile"));
    }

    /**
     * The card's badge: how many dead letters the durable channels hold, each counted up to 1000, with a {@code +} when
     * a channel has more, {@code ?} when a channel's cannot be counted.
     */
    public Uni<String> getDeadLetterCount() {
        List<Uni<Long>> counts = new ArrayList<>();
        for (DurableChannelView channel : getDurableChannels()) {
            // on the index alone, not reading a payload: the card asks each time it is shown
            counts.add(elections.election(channel.election())
                    .deadLetterCount(channel.channel(), 0, DeadLetterViews.COUNTED + 1)
                    .onFailure().recoverWithNull());
        }
        if (counts.isEmpty()) {
            return Uni.createFrom().item("0");
        }
        return Uni.join().all(counts).andFailFast().map(DeadLetterViews::total);
    }

    private Uni<ElectionView> view(LeaderElectionImpl election) {
        List<MethodView> bound = methods.forElection(election.name()).all().stream()
                .map(m -> new MethodView(m.channel, m.description, m.ordered, m.executionModel.name().toLowerCase(),
                        m.durable))
                .toList();
        return election.currentLeader()
                .onFailure().recoverWithItem(Optional.<LeaderInfo> empty())
                .map(leader -> new ElectionView(election.name(), election.instanceId(), Long.toString(election.lock()),
                        election.role(), leader.map(LeaderInfo::instanceId).orElse("none"),
                        leader.map(l -> Long.toString(l.term())).orElse(""),
                        leader.map(l -> l.since().toString()).orElse(""), bound));
    }
}
