package io.quarkiverse.leader.runtime;

import java.util.ArrayDeque;

import io.quarkiverse.leader.runtime.DeliveryConfig.Overflow;

/**
 * The notifications waiting for one method, at most {@code capacity}; when full, an arriving one is dropped or makes
 * room by dropping the oldest, as the overflow policy says. Confined to the election's context, but for
 * {@link #depth()}, which any thread may read.
 */
final class Mailbox {

    // an ArrayDeque that grows as needed: Mutiny's overflow strategies have no drop-oldest with a bound
    private final ArrayDeque<String> waiting = new ArrayDeque<>();
    private final int capacity;
    private final Overflow overflow;
    private volatile int depth; // for the gauge, read by the metrics system's thread

    Mailbox(int capacity, Overflow overflow) {
        this.capacity = capacity;
        this.overflow = overflow;
    }

    /** Adds {@code payload}; returns whether a notification, that one or the oldest, was dropped to keep the bound. */
    boolean offer(String payload) {
        boolean dropped = false;
        if (waiting.size() >= capacity) {
            if (overflow == Overflow.DROP_NEWEST) {
                return true;
            }
            waiting.poll();
            dropped = true;
        }
        waiting.add(payload);
        depth = waiting.size();
        return dropped;
    }

    /** The oldest waiting notification, taken out; {@code null} when none waits. */
    String poll() {
        String payload = waiting.poll();
        depth = waiting.size();
        return payload;
    }

    /** Empties the mailbox; returns how many notifications it held. */
    int clear() {
        int dropped = waiting.size();
        waiting.clear();
        depth = 0;
        return dropped;
    }

    int depth() {
        return depth;
    }
}
