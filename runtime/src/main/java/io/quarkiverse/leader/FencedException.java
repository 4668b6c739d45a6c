package io.quarkiverse.leader;

/**
 * A fenced transaction ({@link LeaderElection#fenced}) was rolled back because the term it ran in is over, or because
 * this instance did not lead when it began. Nothing it wrote was committed.
 */
public class FencedException extends NotLeaderException {

    private static final long serialVersionUID = 1L;

    public FencedException(String message) {
        super(message);
    }

    public FencedException(String message, Throwable cause) {
        super(message);
        initCause(cause);
    }
}
