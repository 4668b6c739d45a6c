package io.quarkiverse.leader.runtime;

/**
 * Why a notification was not handled: the {@code reason} tag of {@code leader.notifications.dropped}.
 */
public enum DropReason {

    /** The method's mailbox was full. */
    OVERFLOW("overflow"),
    /** This instance stopped leading before the notification could run. */
    NOT_LEADER("not-leader"),
    /** The call ran past {@code handler-timeout} and was abandoned. */
    TIMEOUT("timeout");

    private final String tag;

    DropReason(String tag) {
        this.tag = tag;
    }

    /** The value of the {@code reason} tag. */
    public String tag() {
        return tag;
    }
}
