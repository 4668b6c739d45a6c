package io.quarkiverse.leader.runtime;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * The message that a wake-up of the send function carries when its payload is small (see
 * {@link MessageTable#functionDdl}): {@code \u0001<id> <stored at, µs since the epoch> <channel length, in bytes of
 * UTF-8> <channel><payload>}. The leader hands it to its method without fetching it. Any session may NOTIFY, so nothing in it
 * is trusted beyond the call: the writes on the message check the stored row against its {@link #digest()}.
 *
 * @param channel the durable channel
 * @param id the message's id
 * @param sentMicros when it was stored, by the database's clock, in microseconds since the epoch
 * @param payload its payload
 */
record WakeupMessage(String channel, long id, long sentMicros, String payload) {

    /**
     * The message {@code wakeup} carries, or null when it carries none: a wake-up that names its channel alone (a
     * large message's, or one of a function that sends none) or one that is not the function's at all.
     */
    static WakeupMessage parse(String wakeup) {
        if (!carriesMessage(wakeup)) {
            return null;
        }
        try {
            int[] at = { 1 };
            long id = number(wakeup, at);
            long sentMicros = number(wakeup, at);
            long channelBytes = number(wakeup, at);
            // the channel's length: no separator that a channel's name could hold is needed
            int channelEnd = endOfUtf8(wakeup, at[0], channelBytes);
            return new WakeupMessage(wakeup.substring(at[0], channelEnd), id, sentMicros, wakeup.substring(channelEnd));
        } catch (NumberFormatException | IndexOutOfBoundsException unreadable) {
            return null;
        }
    }

    /** Whether {@code wakeup} has the form of one that carries its message. */
    static boolean carriesMessage(String wakeup) {
        return !wakeup.isEmpty() && wakeup.charAt(0) == MessageTable.WAKEUP_MESSAGE_START;
    }

    /** Where the characters from {@code start} that take {@code bytes} bytes of UTF-8 end. */
    private static int endOfUtf8(String text, int start, long bytes) {
        int at = start;
        long counted = 0;
        while (counted < bytes) {
            int codePoint = text.codePointAt(at); // past the end: IndexOutOfBoundsException
            counted += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
            at += Character.charCount(codePoint);
        }
        if (counted != bytes) {
            throw new NumberFormatException("the channel's length ends inside a character");
        }
        return at;
    }

    private static long number(String wakeup, int[] at) {
        int end = wakeup.indexOf(' ', at[0]);
        if (end < 0) {
            throw new NumberFormatException("no separator after " + at[0]);
        }
        long value = Long.parseLong(wakeup, at[0], end, 10);
        at[0] = end + 1;
        return value;
    }

    /**
     * As a fetched message: never failed on yet, its size counted here (nothing in a wake-up is trusted), its payload
     * left unread when larger than {@code maxPayloadBytes}.
     */
    DurableMessage message(long maxPayloadBytes) {
        byte[] utf8 = payload.getBytes(StandardCharsets.UTF_8);
        return new DurableMessage(id, utf8.length <= maxPayloadBytes ? payload : null, utf8.length, 0,
                Instant.EPOCH.plus(sentMicros, ChronoUnit.MICROS).atOffset(ZoneOffset.UTC), digest(utf8));
    }

    /**
     * SHA-256 of the channel and the payload in UTF-8, a NUL byte between them (which no text holds): what
     * {@link MessageTable#storedDigest()} computes of the row, so that only the stored message itself matches.
     */
    byte[] digest() {
        return digest(payload.getBytes(StandardCharsets.UTF_8));
    }

    private byte[] digest(byte[] utf8Payload) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(channel.getBytes(StandardCharsets.UTF_8));
            sha256.update((byte) 0);
            sha256.update(utf8Payload);
            return sha256.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
