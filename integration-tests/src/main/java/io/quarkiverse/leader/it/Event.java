package io.quarkiverse.leader.it;

/**
 * The payload of the {@code events} channel.
 */
public record Event(String id, String text, int priority) {
}
