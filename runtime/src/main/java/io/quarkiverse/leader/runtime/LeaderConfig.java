package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import io.quarkiverse.leader.LeaderElection;
import io.quarkus.runtime.annotations.ConfigDocMapKey;
import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithDefaults;
import io.smallrye.config.WithParentName;
import io.smallrye.config.WithUnnamedKey;

/**
 * Leader election.
 */
@ConfigMapping(prefix = "quarkus.leader")
@ConfigRoot(phase = ConfigPhase.RUN_TIME)
public interface LeaderConfig {

    /**
     * The default election and the named ones, each on its own session and lock. Which named elections exist is fixed
     * at build time: the build declares one for each name it sees any {@code quarkus.leader."name".*} property of, and
     * start-up fails on a name that only the run-time configuration has. Their values are read at run time.
     */
    @ConfigDocMapKey("election-name")
    @WithParentName
    @WithUnnamedKey(LeaderElection.DEFAULT_NAME)
    @WithDefaults
    Map<String, ElectionConfig> elections();

    /**
     * One election.
     */
    interface ElectionConfig {

        /**
         * Whether this instance takes part in the election. When {@code false} it never leads and listens on no channel;
         * it can still send notifications.
         */
        @WithDefault("true")
        boolean enabled();

        /**
         * The PostgreSQL advisory lock key (a {@code bigint}) that the instances of the application compete for. When
         * unset, a key is derived from {@code quarkus.application.name} (and the election's name, for a named election),
         * the same on every instance, and logged at start-up. Applications that share a database need different keys.
         */
        Optional<Long> lock();

        /**
         * The name of the reactive datasource to run the election on; the default datasource when unset. The election
         * opens its own connection with that datasource's URL and credentials, and notifications are sent through its pool.
         */
        Optional<String> datasource();

        /**
         * The id of this instance, shown in {@code LeadershipChanged} events and in {@code pg_stat_activity} as
         * {@code application_name}. Defaults to the host name, the process id and a random suffix; a named election
         * defaults to the id of the default election.
         */
        Optional<String> instanceId();

        /**
         * How followers wait for the lock. {@code wait}: each follower waits inside PostgreSQL
         * ({@code pg_advisory_lock}), so it takes over the moment the leader's session ends. {@code poll}: each follower
         * tries the lock ({@code pg_try_advisory_lock}) every {@code poll}, as the npm package {@code @platformatic/leader}
         * does; a takeover then waits up to one poll interval.
         */
        @WithDefault("wait")
        AcquireStrategy acquire();

        /**
         * With {@code acquire=poll}, the interval between two attempts to take the lock. With {@code acquire=wait}, how long
         * one wait inside PostgreSQL lasts ({@code lock_timeout}) before the follower checks in and waits again.
         */
        @WithDefault("10s")
        Duration poll();

        /**
         * How often the leader confirms that its session is alive. Must be shorter than {@code lease}.
         */
        @WithDefault("1s")
        Duration heartbeat();

        /**
         * How long leadership lasts after the leader last confirmed its session. Once it has run out unconfirmed,
         * {@code isLeader()} is {@code false}, no notification is dispatched, and the instance steps down and reconnects.
         * The session's TCP keepalive and user timeout on the server are set longer than the lease, so that PostgreSQL
         * cannot hand the lock to another session before this instance has stepped down.
         */
        @WithDefault("5s")
        Duration lease();

        /**
         * The delay after the first failed attempt to open the election session (the first attempt after a lost session
         * is immediate); it doubles, with jitter, on each further failed attempt up to {@code reconnect-max-delay}, or
         * up to {@code reconnect-rejected-max-delay} for attempts the server rejects.
         */
        @WithDefault("50ms")
        Duration reconnectInitialDelay();

        /**
         * The longest delay between two attempts to reconnect after a failure of the connection itself (refused, reset,
         * timed out, unreachable) or a server that is starting up, shutting down, in recovery or a standby: short, so
         * that the instances are back soon after PostgreSQL restarts or a standby is promoted.
         */
        @WithDefault("500ms")
        Duration reconnectMaxDelay();

        /**
         * The longest delay between two attempts to reconnect after the server rejected the attempt with an error of its
         * own (too many connections, a failed authentication, a database that does not exist, a missing privilege): the
         * server starts a backend process for each such attempt, so these back off further. At least
         * {@code reconnect-max-delay}.
         */
        @WithDefault("5s")
        Duration reconnectRejectedMaxDelay();

        /**
         * Whether followers end the session of a leader that holds the lock but has stopped confirming it (a paused or
         * hung process, a network that drops its packets), with {@code pg_terminate_backend}, once the server has heard
         * nothing from that session for {@code lease} + {@code heartbeat}: its lease has run out by then, so it no longer
         * believes it leads. Without it such a leader keeps the lock for as long as its host answers TCP. Each follower's
         * own lock statement looks at the leader's session first, on {@code pg_locks} and {@code pg_stat_activity} of the
         * election's database (the first in line about once per {@code lease}, the others once per {@code poll} or
         * two thresholds, whichever is shorter), and
         * ends it only if, as it runs, that session still holds the lock, is idle and has been silent that long. Instances that
         * all run as the same database role need nothing more.
         * Otherwise the followers' role needs {@code pg_read_all_stats} (or {@code pg_monitor}) to see the leader's
         * state and {@code pg_signal_backend} to end its session, and a superuser's session can only be ended by a
         * superuser; a follower that lacks them logs a warning once, naming the roles and the {@code GRANT} to run.
         */
        @WithDefault("true")
        boolean evictHungLeader();

        /**
         * On shutdown, how long to wait for notification handlers that are running (durable ones with their
         * acknowledgement included) before the lock is released anyway.
         */
        @WithDefault("10s")
        Duration shutdownTimeout();

        /**
         * How long a step-down waits for the synchronous observers of {@code LeadershipChanged(false)} to return before
         * the lock is given up anyway. Until they return the lock stays held, so that no other instance starts leading
         * while this one still winds its work down; on a graceful stop this wait comes after the handlers have drained.
         * After a lost lease, a lock whose session still lives stays held (and the election unled) up to this long.
         */
        @WithDefault("5s")
        Duration observerTimeout();

        /**
         * How long {@code notify} waits for PostgreSQL to accept a notification before it fails with a
         * {@code SendTimeoutException} (the notification may or may not have been sent); {@code notifyAndAwait} waits
         * no longer.
         */
        @WithDefault("10s")
        Duration sendTimeout();

        /**
         * Durable channels: messages stored in PostgreSQL and handed to the leader's
         * {@code @OnLeaderNotification(durable = true)} method at least once.
         */
        Durable durable();

        /**
         * Messages of durable channels are rows of a table of the election's database until their method has handled
         * them; {@code send} and the SQL function insert them.
         */
        interface Durable {

            /**
             * The table that keeps the messages of durable channels until they are handled, and the dead letters.
             */
            @WithDefault("quarkus_leader_message")
            String table();

            /**
             * The schema of the message table and of the send function; when unset, the schema that the application's
             * {@code search_path} creates in ({@code current_schema()}), which the send function then names.
             */
            Optional<String> schema();

            /**
             * The SQL function that stores a message and wakes the leader: {@code SELECT quarkus_leader_send('orders',
             * '{"id": 1}')} returns the message's id. {@code send} calls it too.
             */
            @WithDefault("quarkus_leader_send")
            String function();

            /**
             * The channel on which the send function wakes the leader up when its transaction commits; the payload is
             * the durable channel's name (with {@code wakeup-payload}, a small message itself, see there).
             */
            @WithDefault("quarkus_leader_wakeup")
            String wakeupChannel();

            /**
             * Whether the send function's wake-up carries a message whose payload has at most 2000 bytes, and the
             * leader hands such a message to its method from there, without fetching it first: a database round trip
             * less between the commit and the call. PostgreSQL lets every session of the database {@code LISTEN} and
             * {@code NOTIFY} on any channel, without a privilege: with {@code true}, a session that listens on the
             * wake-up channel reads those payloads, and one that notifies there can have a method that does not take
             * the {@code SqlConnection} called with a payload of its own (it cannot acknowledge, fail or dead-letter a
             * stored message, and an exactly-once method's transaction does not commit). Set it to {@code true} where
             * every role that can connect to the database may read and send durable messages. The send function is
             * created to match when missing, never replaced: on a mismatch the log gives the statement that replaces
             * it, and the leader hands over only what a function made with {@code true} sends.
             */
            @WithDefault("false")
            boolean wakeupPayload();

            /**
             * Whether the message table, its indexes and the send function are created when they are missing. When
             * {@code false} and they are missing, the log gives the DDL to run and sends fail until they exist.
             */
            @WithDefault("true")
            boolean createTable();

            /**
             * The largest payload {@code send} accepts, in bytes of UTF-8 once serialised, from 1 byte to {@code 64M}; a
             * larger one fails before anything is sent, and one stored by SQL is not read by the leader but becomes a dead
             * letter. PostgreSQL's 8000-byte limit of {@code NOTIFY} does not apply to durable messages.
             */
            @WithDefault("1M")
            MemorySize maxPayloadSize();

            /**
             * How often the leader checks for pending messages besides the wake-up that each commit sends: the bound on
             * how late a message whose wake-up was missed is delivered.
             */
            @WithDefault("1s")
            Duration pollInterval();

            /**
             * How many pending messages of a channel the leader fetches at a time: the bound of what it holds in memory
             * per channel.
             */
            @WithDefault("100")
            int batchSize();

            /**
             * How long the leader waits before it calls a method again on a message it failed on; the delay doubles,
             * with jitter, after each further failure, up to {@code retry-max-delay}. On an ordered channel the next
             * messages wait meanwhile.
             */
            @WithDefault("1s")
            Duration retryInitialDelay();

            /**
             * The longest delay between two calls on a message that keeps failing.
             */
            @WithDefault("1m")
            Duration retryMaxDelay();

            /**
             * How many times a method is called on a message, the first call included, before the message becomes a
             * dead letter. A payload that cannot be read as the method's parameter is a dead letter at once.
             */
            @WithDefault("10")
            int maxAttempts();

            /**
             * How long a call of a durable method may take (until its {@code Uni} or {@code CompletionStage} completes,
             * or it returns): one that takes longer counts as a failed attempt, so that a call that never completes
             * cannot hold its channel for as long as the instance leads. The call is not interrupted.
             */
            @WithDefault("1m")
            Duration callTimeout();
        }

        /**
         * Terms and fenced transactions.
         */
        Fencing fencing();

        /**
         * How notifications reach the {@code @OnLeaderNotification} methods: each method's mailbox, its bound and what
         * it drops when full.
         */
        DeliveryConfig delivery();

        /**
         * Every acquisition of the lock gets a term, one more than the last, kept in a table of the election's database.
         */
        interface Fencing {

            /**
             * The table that keeps the current term of each lock.
             */
            @WithDefault("quarkus_leader_term")
            String table();

            /**
             * The schema of the term table; the first schema of the session's {@code search_path} when unset.
             */
            Optional<String> schema();

            /**
             * Whether the election creates the term table when it is missing. When {@code false} and the table is missing,
             * the election logs the DDL to run and retries; no instance leads until the table exists.
             */
            @WithDefault("true")
            boolean createTable();

            /**
             * How long a fenced transaction may sit idle between two statements before PostgreSQL ends it
             * ({@code idle_in_transaction_session_timeout}). A fenced transaction holds the term row, so a new leader
             * cannot begin its term before it ends: this bounds how long a paused or hung old leader can hold up the next
             * one.
             */
            @WithDefault("5s")
            Duration idleTimeout();
        }
    }

    /**
     * How followers wait for the lock.
     */
    enum AcquireStrategy {
        /**
         * Block in {@code pg_advisory_lock}, re-issued every {@code poll}.
         */
        WAIT,
        /**
         * Try {@code pg_try_advisory_lock} every {@code poll}.
         */
        POLL
    }
}
