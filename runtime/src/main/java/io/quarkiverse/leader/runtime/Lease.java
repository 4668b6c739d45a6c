package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.time.Instant;

/**
 * The leader's belief that it leads: valid until a lease after the moment the last confirmation of its session was
 * sent. It runs out by itself, even in a process that runs no code meanwhile.
 */
final class Lease {

    private final long nanos;
    private volatile boolean held;
    private volatile long deadline;

    Lease(Duration lease) {
        this.nanos = lease.toNanos();
    }

    /** Holds the lease from a confirmation sent at {@code sentAt} (a {@link System#nanoTime()}). */
    void confirm(long sentAt) {
        deadline = sentAt + nanos;
        held = true;
    }

    boolean valid() {
        return held && System.nanoTime() - deadline < 0;
    }

    /** Whether a confirmation sent at {@code sentAt} came back too late to leave a heartbeat's worth of lease. */
    boolean tooLate(long sentAt, Duration margin) {
        return System.nanoTime() - (sentAt + nanos - margin.toNanos()) >= 0;
    }

    /** Milliseconds until it runs out, at least 1. */
    long remainingMillis() {
        return Math.max(1, (deadline - System.nanoTime()) / 1_000_000 + 1);
    }

    /** Gives it up; returns when it ended: now, or the moment it ran out if it already had. */
    Instant end() {
        long overdue = System.nanoTime() - deadline;
        Instant ended = held && overdue > 0 ? Instant.now().minusNanos(overdue) : Instant.now();
        held = false;
        return ended;
    }
}
