package io.quarkiverse.leader;

import io.smallrye.mutiny.TimeoutException;

/**
 * PostgreSQL did not accept a notification within {@code quarkus.leader.send-timeout}: it may or may not have been
 * sent. A Mutiny {@link TimeoutException}, so a {@code Uni} pipeline handles it as any other timeout.
 */
public class SendTimeoutException extends TimeoutException {

    private final String message;

    public SendTimeoutException(String message) {
        this.message = message;
    }

    @Override
    public String getMessage() {
        return message;
    }
}
