package io.quarkiverse.leader.runtime;

import java.nio.charset.StandardCharsets;

/**
 * PostgreSQL's rules for notification channels and payloads, checked before anything is sent.
 */
public final class Channels {

    /** NAMEDATALEN - 1: PostgreSQL rejects longer channel names in pg_notify and truncates them in LISTEN. */
    public static final int MAX_CHANNEL_BYTES = 63;

    /** NOTIFY_PAYLOAD_MAX_LENGTH (8000) - 1: PostgreSQL rejects a payload of 8000 bytes or more. */
    public static final int MAX_PAYLOAD_BYTES = 7999;

    private Channels() {
    }

    /**
     * @return why {@code channel} is not a valid channel name, or {@code null} if it is valid
     */
    public static String problem(String channel) {
        if (channel == null || channel.isEmpty()) {
            return "it is empty; a channel name has 1 to " + MAX_CHANNEL_BYTES + " bytes";
        }
        if (channel.indexOf('\0') >= 0) {
            return "it contains a NUL character, which PostgreSQL does not allow in a name";
        }
        int bytes = channel.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_CHANNEL_BYTES) {
            return "it has " + bytes + " bytes of UTF-8; a channel name has 1 to " + MAX_CHANNEL_BYTES + " bytes";
        }
        return null;
    }

    public static void validateChannel(String channel) {
        String problem = problem(channel);
        if (problem != null) {
            throw new IllegalArgumentException("Invalid notification channel '" + channel + "': " + problem);
        }
    }

    public static void validatePayload(String channel, String payload) {
        if (payload.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("Notification payload for channel '" + channel
                    + "' contains a NUL character, which PostgreSQL text cannot hold");
        }
        // a char is at most 3 bytes of UTF-8, so shorter payloads fit without counting
        if (payload.length() * 3 > MAX_PAYLOAD_BYTES) {
            int bytes = payload.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_PAYLOAD_BYTES) {
                throw new IllegalArgumentException("Notification payload for channel '" + channel + "' has " + bytes
                        + " bytes of UTF-8; PostgreSQL accepts at most " + MAX_PAYLOAD_BYTES
                        + " (send a key and keep the data in a table instead)");
            }
        }
    }

    /** Quotes a channel as an SQL identifier for LISTEN and UNLISTEN, which take no bind parameters. */
    public static String quote(String channel) {
        return '"' + channel.replace("\"", "\"\"") + '"';
    }
}
