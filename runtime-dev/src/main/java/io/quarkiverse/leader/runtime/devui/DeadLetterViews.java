package io.quarkiverse.leader.runtime.devui;

import java.util.List;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderElectionImpl;
import io.quarkiverse.leader.runtime.devui.LeaderJsonRpcService.DeadLetterView;
import io.smallrye.mutiny.Uni;

/**
 * Dead letters as the Dev UI shows them: ids as strings, payloads cut short (the whole one is fetched on demand), and
 * the count on the card.
 */
final class DeadLetterViews {

    /** Characters of a payload that the list shows; a payload may have up to max-payload-size bytes. */
    static final int PREVIEW_LENGTH = 120;

    /** A page of dead letters, and whether another follows it. */
    record Page(List<DeadLetter> letters, boolean more) {
    }

    private DeadLetterViews() {
    }

    /** The page after {@code afterId}; whether another follows is counted on the index, without reading it. */
    static Uni<Page> page(LeaderElectionImpl election, String channel, long afterId) {
        return election.deadLetters(channel, afterId).chain(letters -> letters.isEmpty()
                ? Uni.createFrom().item(new Page(letters, false))
                : election.deadLetterCount(channel, letters.get(letters.size() - 1).id(), 1)
                        .map(next -> new Page(letters, next > 0)));
    }

    static DeadLetterView view(DeadLetter letter) {
        String payload = letter.payload();
        if (payload == null) { // larger than max-payload-size: not read
            return new DeadLetterView(Long.toString(letter.id()), letter.attempts(), letter.lastError(), null, false, -1);
        }
        boolean shortened = payload.length() > PREVIEW_LENGTH;
        return new DeadLetterView(Long.toString(letter.id()), letter.attempts(), letter.lastError(),
                shortened ? cut(payload) + "…" : payload, shortened, payload.length());
    }

    /** Ids come from the page as strings: JavaScript numbers cannot hold every 64-bit value. */
    static long parseId(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("A dead letter's id is a whole number (a message id), got '" + id + "'");
        }
    }

    /**
     * The card's badge from each channel's count, made up to {@value #COUNTED} and one more: {@code +} after the sum
     * when a channel has more, {@code ?} when a channel's count ({@code null}) could not be read.
     */
    static String total(List<Long> counts) {
        long total = 0;
        boolean more = false;
        for (Long count : counts) {
            if (count == null) {
                return "?";
            }
            total += Math.min(count, COUNTED);
            more |= count > COUNTED;
        }
        return more ? total + "+" : Long.toString(total);
    }

    /** How many dead letters of a channel the badge counts at most. */
    static final int COUNTED = LeaderElection.MAX_DEAD_LETTERS;

    // never between the two halves of a surrogate pair
    private static String cut(String payload) {
        int end = Character.isHighSurrogate(payload.charAt(PREVIEW_LENGTH - 1)) ? PREVIEW_LENGTH - 1 : PREVIEW_LENGTH;
        return payload.substring(0, end);
    }
}
