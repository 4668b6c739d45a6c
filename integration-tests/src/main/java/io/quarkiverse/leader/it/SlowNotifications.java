package io.quarkiverse.leader.it;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.leader.OnLeaderNotification;

/**
 * A handler far slower than its senders, for the benchmark of a burst: its mailbox fills up to its bound and drops
 * the rest, however many are sent.
 */
@ApplicationScoped
public class SlowNotifications {

    /** How long each notification takes: 200 per second at most. */
    static final long MILLIS_EACH = 5;

    @OnLeaderNotification("slow")
    void onSlow(String payload) throws InterruptedException {
        Thread.sleep(MILLIS_EACH); // the slowness is the point
    }
}
