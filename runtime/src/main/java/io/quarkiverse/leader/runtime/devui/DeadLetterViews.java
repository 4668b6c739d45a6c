package io.quarkiverse.leader.runtime.devui;

import java.util.List;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.devui.LeaderJsonRpcService.DeadLetterView;

/**
 * Dead letters as the Dev UI shows them: ids as strings, payloads cut short (the whole one is fetched on demand), and
 * the count on the card.
 */
final class DeadLetterViews {

    /** Characters of a payload that the list shows; a payload may have up to max-payload-size bytes. */
    static final int PREVIEW_LENGTH = 120;

    /** A channel whose dead letters could not be read. */
    static final int UNKNOWN = -1;

    private DeadLetterViews() {
    }

    static DeadLetterView view(DeadLetter letter) {
        String payload = letter.payload();
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

    /** The sum of the channels' counts, {@code +} after it when a channel has more than one read returns. */
    static String total(List<Integer> counts) {
        long total = 0;
        boolean more = false;
        for (int count : counts) {
            if (count == UNKNOWN) {
                return "?";
            }
            total += count;
            more |= count >= LeaderElection.MAX_DEAD_LETTERS;
        }
        return more ? total + "+" : Long.toString(total);
    }

    // never between the two halves of a surrogate pair
    private static String cut(String payload) {
        int end = Character.isHighSurrogate(payload.charAt(PREVIEW_LENGTH - 1)) ? PREVIEW_LENGTH - 1 : PREVIEW_LENGTH;
        return payload.substring(0, end);
    }
}
