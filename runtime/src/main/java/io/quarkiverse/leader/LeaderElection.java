package io.quarkiverse.leader;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * An election this application instance takes part in. Inject it to ask whether this instance leads and to send
 * notifications to whichever instance does: {@code @Inject LeaderElection} is the default election, {@code @Inject
 * @Election("jobs") LeaderElection} the named election {@code jobs}.
 */
public interface LeaderElection {

    /** The name of the default election, configured with {@code quarkus.leader.*}. */
    String DEFAULT_NAME = "<default>";

    /**
     * @return the name of this election: {@value #DEFAULT_NAME}, or the name of a named election
     */
    String name();

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
     * @return the term of this instance's leadership while it leads, empty otherwise. Every acquisition of the lock
     *         begins a new term, one more than the last one of this lock across all instances and PostgreSQL restarts.
     */
    OptionalLong term();

    /**
     * Runs {@code work} in a transaction on the datasource's pool that commits only if this instance's term is still
     * the current one. The transaction holds the lock's term row ({@code FOR SHARE}) from its first statement, so a new
     * leader cannot begin the next term until it has ended: a commit of this term either lands before the next term
     * begins, or fails. PostgreSQL ends a fenced transaction left idle for {@code quarkus.leader.fencing.idle-timeout},
     * which bounds how long a paused instance can hold up the next leader. Keep fenced transactions short. Besides its
     * work's, a fenced transaction takes two round trips, each bounded by {@code quarkus.leader.lease}.
     *
     * @param work the statements to run on the transaction's connection; the transaction commits when its
     *        {@link Uni} completes with an item and rolls back when it fails. It must not begin, commit or roll back
     *        the transaction itself. If one of its statements failed and it completed all the same, nothing is
     *        committed (PostgreSQL aborted the transaction) and the call fails with {@link IllegalStateException}.
     *        Once its {@link Uni} has ended (before COMMIT or ROLLBACK goes out), a statement run on the connection,
     *        also from a query or prepared statement built before, fails with {@link IllegalStateException}, and the
     *        statements it prepared are closed
     * @return the item of {@code work}, once committed. Leadership is checked on each subscription. It fails with
     *         {@link FencedException}, and nothing is committed, when this instance does not lead, when its term was
     *         over before the transaction began, when its leadership ended before the commit, or when the transaction
     *         failed before the commit and this instance's term has ended by then (the failure is the cause). When
     *         the COMMIT itself fails (the connection lost on the way), PostgreSQL is asked by the transaction's id
     *         whether it committed: if so, the item is returned; if not, it fails as a failure before the commit
     *         does. Other failures of {@code work} are passed on as they are, and so is a failed COMMIT whose outcome
     *         PostgreSQL cannot tell (the server unreachable; if it committed, it did so before the next term
     *         began).
     */
    <T> Uni<T> fenced(Function<SqlConnection, Uni<T>> work);

    /**
     * Asks PostgreSQL which instance leads now, in which term and since when, whichever instance that is.
     *
     * @return the leader, or empty while no instance leads (during a handover, or before the first leader has begun its
     *         term)
     */
    Uni<Optional<LeaderInfo>> currentLeader();

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

    /**
     * Stores a message on a durable channel, in a transaction of its own; the leader's
     * {@code @OnLeaderNotification(value = channel, durable = true)} method receives it at least once, also when no
     * instance leads at the moment it is sent. Any instance may call it, leader or not. See the delivery guarantees in
     * the documentation.
     *
     * @param channel the channel, 1 to 63 bytes of UTF-8
     * @param payload a {@link String} is stored as is; anything else is serialised to JSON with the application's
     *        {@code ObjectMapper}. At most {@code quarkus.leader.durable.max-payload-size} bytes of UTF-8 once serialised.
     * @return the message's id once it has committed. It fails with {@link IllegalArgumentException}, before anything is
     *         sent, for an invalid channel, a plain channel of this election (one its plain methods listen on) or an
     *         oversize payload, and with {@link SendTimeoutException} when PostgreSQL has not stored it within
     *         {@code quarkus.leader.send-timeout}.
     */
    Uni<Long> send(String channel, Object payload);

    /**
     * Blocking form of {@link #send(String, Object)}, bounded by {@code quarkus.leader.send-timeout}; do not call it on
     * an event-loop thread.
     *
     * @return the message's id once it has committed
     */
    long sendAndAwait(String channel, Object payload);

    /**
     * Stores a message on a durable channel in the caller's own transaction (a transactional outbox): it is delivered if
     * and only if that transaction commits, and the leader is woken up at that commit.
     *
     * @param connection the connection whose transaction the message joins
     * @param channel the channel, as for {@link #send(String, Object)}
     * @param payload the payload, as for {@link #send(String, Object)}
     * @return the message's id, stored but not committed yet
     */
    Uni<Long> send(SqlConnection connection, String channel, Object payload);

    /**
     * The first page of a durable channel's dead letters: messages whose method failed
     * {@code quarkus.leader.durable.max-attempts} times, or whose payload could not be read as its parameter.
     *
     * @param channel the durable channel
     * @return the channel's dead letters, the lowest ids first, as {@link #deadLetters(String, long)} pages them
     */
    Uni<List<DeadLetter>> deadLetters(String channel);

    /**
     * A page of a durable channel's dead letters: those with ids above {@code afterId}, the lowest first, at most
     * {@value #MAX_DEAD_LETTERS} of them, stopping once their payloads reach 8 MiB. The next page starts
     * after the last id of this one; an empty page is the end.
     *
     * @param channel the durable channel
     * @param afterId the last id of the previous page, or 0 for the first page
     * @return the page, possibly empty
     */
    Uni<List<DeadLetter>> deadLetters(String channel, long afterId);

    /** How many dead letters a page of {@link #deadLetters(String, long)} holds at most. */
    int MAX_DEAD_LETTERS = 1000;

    /**
     * Puts a dead letter back into the flow, with its attempts reset, and wakes the leader up. On an ordered channel it
     * takes its place by id, so it comes before the pending messages with higher ids.
     *
     * @param id the dead letter's id
     * @return {@code true} if it was a dead letter and is pending again, {@code false} if there is no dead letter with
     *         that id
     */
    Uni<Boolean> redeliver(long id);
}
