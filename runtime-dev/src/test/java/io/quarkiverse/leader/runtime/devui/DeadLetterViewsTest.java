package io.quarkiverse.leader.runtime.devui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.runtime.devui.LeaderJsonRpcService.DeadLetterView;

/**
 * Dead letters as the Dev UI shows them: a long payload cut short, never inside a character, one too large to read
 * as none; ids as strings; the card's count.
 */
class DeadLetterViewsTest {

    @Test
    void aShortPayloadIsShownWhole() {
        DeadLetterView view = DeadLetterViews.view(new DeadLetter(Long.MAX_VALUE, "orders", "{\"id\": 1}", 3, "E: x"));
        assertThat(view.id()).isEqualTo("9223372036854775807");
        assertThat(view.payload()).isEqualTo("{\"id\": 1}");
        assertThat(view.shortened()).isFalse();
        assertThat(view.payloadLength()).isEqualTo(9);
        assertThat(view.attempts()).isEqualTo(3);
        assertThat(view.lastError()).isEqualTo("E: x");
    }

    @Test
    void aLongPayloadIsCutAtTheLimitButNotInsideASurrogatePair() {
        String exact = "a".repeat(DeadLetterViews.PREVIEW_LENGTH);
        assertThat(DeadLetterViews.view(letter(exact)).shortened()).isFalse();

        DeadLetterView cut = DeadLetterViews.view(letter(exact + "b"));
        assertThat(cut.shortened()).isTrue();
        assertThat(cut.payload()).isEqualTo(exact + "…");
        assertThat(cut.payloadLength()).isEqualTo(DeadLetterViews.PREVIEW_LENGTH + 1);

        // an emoji is two chars; its first half falls on the last place of the preview
        String emoji = "a".repeat(DeadLetterViews.PREVIEW_LENGTH - 1) + "\uD83D\uDE00" + "tail";
        assertThat(DeadLetterViews.view(letter(emoji)).payload())
                .isEqualTo("a".repeat(DeadLetterViews.PREVIEW_LENGTH - 1) + "…");
    }

    @Test
    void aPayloadTooLargeToReadIsShownAsNone() {
        DeadLetterView view = DeadLetterViews.view(new DeadLetter(7, "orders", null, 1, "payload of 2000000 bytes"));
        assertThat(view.payload()).isNull();
        assertThat(view.shortened()).isFalse();
        assertThat(view.payloadLength()).isEqualTo(-1);
    }

    @Test
    void theCountAddsTheChannelsCountsAndSaysWhenOneHasMoreOrIsUnreadable() {
        assertThat(DeadLetterViews.total(List.of(0L, 2L, 3L))).isEqualTo("5");
        assertThat(DeadLetterViews.total(List.of(1001L, 2L))).isEqualTo("1002+");
        assertThat(DeadLetterViews.total(Arrays.asList(2L, null))).isEqualTo("?");
    }

    @Test
    void anIdThatIsNotANumberIsRefusedNamingIt() {
        assertThat(DeadLetterViews.parseId("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThatThrownBy(() -> DeadLetterViews.parseId("42x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("A dead letter's id is a whole number (a message id), got '42x'");
    }

    private static DeadLetter letter(String payload) {
        return new DeadLetter(1, "orders", payload, 1, "E: x");
    }
}
