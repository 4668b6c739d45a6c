package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.List;

import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.vertx.pgclient.PgConnectOptions;

/**
 * What one election needs to run: where to connect, which lock, which channels, its timings, and where terms are kept.
 *
 * @param waitUnbounded whether a follower may wait for the lock without {@code lock_timeout} where its session is
 *        watched on both ends (TCP keepalive on the client socket, {@code client_connection_check_interval} on the
 *        server); otherwise, and always when false, each wait lasts at most {@code poll} and is issued again
 */
public record ElectionOptions(PgConnectOptions connectOptions, long lock, String instanceId, List<String> channels,
        AcquireStrategy acquire, Duration poll, Duration heartbeat, Duration lease, Duration reconnectInitialDelay,
        Duration reconnectMaxDelay, TermTable terms, boolean waitUnbounded) {

    /** Probes of a silent peer, one a second, before TCP gives the session up (both ends). */
    static final int KEEPALIVE_INTERVAL_SECONDS = 1;
    static final int KEEPALIVE_COUNT = 3;

    /** How long the lock holder's session must have been silent before a follower may end it: its lease is over by then. */
    Duration evictionThreshold() {
        return lease.plus(heartbeat);
    }

    /**
     * How long the client waits for the answer to a statement before it gives the session up: longer than any bounded
     * wait on the server ({@code lock_timeout} = {@code poll}), so only a server gone silent reaches it.
     */
    Duration answerTimeout() {
        return poll.plus(lease);
    }

    /** How long a follower waiting without a timeout takes, at most, to notice that the server has gone silent. */
    Duration silentServerBound() {
        return Duration.ofSeconds(keepaliveIdleSeconds() + (long) KEEPALIVE_INTERVAL_SECONDS * KEEPALIVE_COUNT);
    }

    /** Seconds of idle TCP before either end probes a silent election session. */
    int keepaliveIdleSeconds() {
        return (int) Math.min(Integer.MAX_VALUE - 1, (lease.toMillis() + 999) / 1000) + 1;
    }

    /** Milliseconds PostgreSQL waits for unacknowledged data before dropping the session. */
    long tcpUserTimeoutMillis() {
        return lease.toMillis() + 2000;
    }

    /**
     * The earliest moment, after its last contact, at which PostgreSQL can drop a leader's session that has gone silent
     * and so hand the lock to another session. It is longer than the lease, so the leader steps down first.
     */
    Duration serverReleaseBound() {
        return Duration.ofMillis(Math.min(keepaliveIdleSeconds() * 1000L, tcpUserTimeoutMillis()));
    }

    /** Session settings: the follower's wait bound and the server-side dead-peer detection, both derived from config. */
    String sessionSettingsSql() {
        return "SET lock_timeout = '" + poll.toMillis() + "ms'; "
                + "SET statement_timeout = 0; "
                + "SET standard_conforming_strings = on; "
                + "SET tcp_keepalives_idle = " + keepaliveIdleSeconds() + "; "
                + "SET tcp_keepalives_interval = " + KEEPALIVE_INTERVAL_SECONDS + "; "
                + "SET tcp_keepalives_count = " + KEEPALIVE_COUNT + "; "
                + "SET tcp_user_timeout = " + tcpUserTimeoutMillis();
    }

    /**
     * A follower's wait for the lock. Without a timeout it sends nothing until the lock is granted; with one, PostgreSQL
     * ends it after {@code poll} (the session's {@code lock_timeout}) and the follower issues it again.
     */
    String waitSql(boolean withoutTimeout) {
        String lockSql = "SELECT pg_advisory_lock(" + lock + ")";
        return withoutTimeout ? "SET LOCAL lock_timeout = 0; " + lockSql : lockSql;
    }

    /**
     * One round trip that makes the holder of the lock the leader: the next term, then LISTEN on every channel, in one
     * implicit transaction.
     */
    String leadSql() {
        return terms.nextTermSql(lock, instanceId) + "; " + listenSql();
    }

    /** LISTEN on every channel; a plain round trip when there is none, to confirm the session all the same. */
    String listenSql() {
        if (channels.isEmpty()) {
            return "SELECT 1";
        }
        StringBuilder sql = new StringBuilder();
        for (String channel : channels) {
            sql.append("LISTEN ").append(Channels.quote(channel)).append("; ");
        }
        return sql.toString();
    }
}
