package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.vertx.pgclient.PgConnectOptions;

/**
 * What one election needs to run: where to connect (every URL of the datasource, walked in order until one is a
 * primary), which lock, which channels, its timings, where terms are kept, and the datasource's credentials provider,
 * if it has one, and how to connect it directly when a pooler stands in the way.
 */
public record ElectionOptions(List<PgConnectOptions> hosts, long lock, String instanceId, List<String> channels,
        AcquireStrategy acquire, Duration poll, Duration heartbeat, Duration lease, Duration reconnectInitialDelay,
        Duration reconnectMaxDelay, Duration reconnectRejectedMaxDelay, Duration observerTimeout, TermTable terms,
        SessionDatasource datasource, String poolerFix) {

    public ElectionOptions {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("an election needs at least one host to connect to");
        }
        hosts = List.copyOf(hosts);
    }

    /** An election on one host. */
    public ElectionOptions(PgConnectOptions connectOptions, long lock, String instanceId, List<String> channels,
            AcquireStrategy acquire, Duration poll, Duration heartbeat, Duration lease, Duration reconnectInitialDelay,
            Duration reconnectMaxDelay, Duration reconnectRejectedMaxDelay, Duration observerTimeout, TermTable terms,
            SessionDatasource datasource, String poolerFix) {
        this(List.of(connectOptions), lock, instanceId, channels, acquire, poll, heartbeat, lease,
                reconnectInitialDelay, reconnectMaxDelay, reconnectRejectedMaxDelay, observerTimeout, terms, datasource,
                poolerFix);
    }

    /** The default election's options on one host, with the pooler advice of the default datasource. */
    public ElectionOptions(PgConnectOptions connectOptions, long lock, String instanceId, List<String> channels,
            AcquireStrategy acquire, Duration poll, Duration heartbeat, Duration lease, Duration reconnectInitialDelay,
            Duration reconnectMaxDelay, Duration reconnectRejectedMaxDelay, Duration observerTimeout, TermTable terms,
            SessionDatasource datasource) {
        this(connectOptions, lock, instanceId, channels, acquire, poll, heartbeat, lease, reconnectInitialDelay,
                reconnectMaxDelay, reconnectRejectedMaxDelay, observerTimeout, terms, datasource,
                PoolerCheck.fix(LeaderElection.DEFAULT_NAME, Optional.empty()));
    }

    /** The options of the first host: the only one, unless the datasource has several URLs. */
    public PgConnectOptions connectOptions() {
        return hosts.get(0);
    }

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

    /**
     * Session settings, in one round trip: the follower's wait bound, the server-side dead-peer detection, and no
     * timeout of the server's that could end the session or its wait, as far as the server's version has them.
     */
    String sessionSettingsSql(int serverMajorVersion) {
        StringBuilder sql = new StringBuilder("SET lock_timeout = '" + poll.toMillis() + "ms'; ")
                .append("SET statement_timeout = 0; ")
                .append("SET standard_conforming_strings = on; ")
                .append("SET tcp_keepalives_idle = ").append(keepaliveIdleSeconds()).append("; ")
                .append("SET tcp_keepalives_interval = 1; ")
                .append("SET tcp_keepalives_count = 3; ")
                .append("SET tcp_user_timeout = ").append(tcpUserTimeoutMillis());
        if (serverMajorVersion >= 14) {
            // notice a dead client while blocked in pg_advisory_lock; never end an idle election session
            sql.append("; SET client_connection_check_interval = '1s'; SET idle_session_timeout = 0");
        }
        if (serverMajorVersion >= 17) {
            // a server-wide transaction_timeout would end the session of a follower waiting for the lock
            sql.append("; SET transaction_timeout = 0");
        }
        return sql.toString();
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
