package io.quarkiverse.leader;

import java.util.Optional;

import io.smallrye.mutiny.Uni;

/**
 * The leader election of this application instance. Inject it to ask whether this instance leads and to send
 * notifications to whichever instance does.
 */
public interface LeaderElection {

    /**
     * Whether this instance leads now. It turns {@code false} by itself once the lease
     * ({@code quarkus.leader.lease}) has run out without the leader confirming its session, even if no code has run
     * since.
     *
     * @return {@code true} while this instance holds the lock and its lease is current
     */
    boolean isLeader();

    /**
     * @return the id of this instance: {@code quarkus.leader.instance-id}, or one derived from host and process
     */
    String instanceId();

    /**
     * @return the advisory lock key this election runs on
     */
    long lock();

    /**
     * Asks PostgreSQL which instance leads now: the instance id of the session that holds the lock, whichever
     * instance that is.
     *
     * @return the leader's instance id, or empty while no session holds the lock (during a handover) or the holder is
     *         not an election session
     */
    Uni<Optional<String>> currentLeader();

    /**
     * Sends a notification on a channel with {@code pg_notify}; the leader's {@link OnLeaderNotification} methods for
     * that channel receive it. Any instance may call it, leader or not.
     *
     * @param channel the channel, 1 to 63 bytes of UTF-8
     * @param payload a {@link String} is sent as is; anything else is serialised to JSON with the application's
     *        {@code ObjectMapper}. At most 7999 bytes of UTF-8 once serialised.
     * @return a {@link Uni} completed once PostgreSQL has accepted the notification; it fails with
     *         {@link IllegalArgumentException}, before anything is sent, for an invalid channel or an oversize payload
     */
    Uni<Void> notify(String channel, Object payload);

    /**
     * Blocking form of {@link #notify(String, Object)}; do not call it on an event-loop thread.
     *
     * @param channel the channel, 1 to 63 bytes of UTF-8
     * @param payload the payload, as for {@link #notify(String, Object)}
     */
    void notifyAndAwait(String channel, Object payload);
}
