package org.acme;

/**
 * The payload of the {@code greetings} channel, sent as JSON.
 */
public record Greeting(String from, String text) {
}
