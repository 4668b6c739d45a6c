package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.List;

import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.vertx.pgclient.PgConnectOptions;

/**
 * What one election needs to run: where to connect, which lock, which channels, its timings, and where terms are kept.
 */
public record ElectionOptions(PgConnectOptions connectOptions, long lock, String instanceId, List<String> channels,
        AcquireStrategy acquire, Duration poll, Duration heartbeat, Duration lease, Duration reconnectInitialDelay,
        Duration reconnectMaxDelay, TermTable terms) {

    /** How long the lock holder's session must have been silent before a follower may end it: its lease is over by then. */
    Duration evictionThreshold() {
        return lease.plus(heartbeat);
    }

    /** How long the client lets its session go without any traffic before it closes it: longer than any wait. */
    Duration sessionIdleTimeout() {
        return poll.plus(lease).plus(lease);
    }

    /** Seconds of idle TCP before PostgreSQL probes a silent election session. */
    long keepaliveIdleSeconds() {
        return (lease.toMillis() + 999) / 1000 + 1;
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
        return Duration.ofMillis(Math.min(keepaliveIdleSeconds() * 1000, tcpUserTimeoutMillis()));
    }

    /** Session settings: the follower's wait bound and the server-side dead-peer detection, both derived from config. */
    String sessionSettingsSql() {
        return "SET lock_timeout = '" + poll.toMillis() + "ms'; "
                + "SET statement_timeout = 0; "
                + "SET standard_conforming_strings = on; "
                + "SET tcp_keepalives_idle = " + keepaliveIdleSeconds() + "; "
                + "SET tcp_keepalives_interval = 1; "
                + "SET tcp_keepalives_count = 3; "
                + "SET tcp_user_timeout = " + tcpUserTimeoutMillis();
    }

    /**
     * One round trip that makes the holder of the lock the leader: the next term, then LISTEN on every channel, in one
     * implicit transaction.
     */
    String leadSql() {
        return terms.nextTermSql(lock, instanceId) + "; " + listenSql();
    }

    /** Gives the lock up in one round trip, after the channels. */
    String releaseSql() {
        return "UNLISTEN *; SELECT pg_advisory_unlock(" + lock + ")";
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
