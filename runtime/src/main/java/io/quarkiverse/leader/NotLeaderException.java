package io.quarkiverse.leader;

/**
 * Thrown when a {@link LeaderOnly} method is called on an instance that does not lead.
 */
public class NotLeaderException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NotLeaderException(String message) {
        super(message);
    }
}
