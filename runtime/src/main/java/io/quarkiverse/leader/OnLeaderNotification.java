package io.quarkiverse.leader;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a bean method that handles the PostgreSQL notifications sent on a channel, on the leader only.
 * <p>
 * The leader {@code LISTEN}s on every channel named by such a method; followers listen on none. Any instance (or any SQL
 * client, with {@code pg_notify}) can send a notification; see {@link LeaderElection#notify(String, Object)}.
 * <p>
 * The method may declare no parameter, or one of: {@link String} (the raw payload), {@code io.vertx.core.json.JsonObject},
 * {@code com.fasterxml.jackson.databind.JsonNode}, or any other type, deserialised from the JSON payload with the
 * application's Jackson {@code ObjectMapper}. It returns {@code void}, {@code Uni<Void>} or {@code CompletionStage<Void>}.
 * A {@link #durable()} method may also take the fenced transaction's connection as its second parameter.
 * <p>
 * Execution model: a method annotated with {@code @RunOnVirtualThread} runs on a virtual thread, one annotated with
 * {@code @Blocking} on a worker thread; otherwise a method returning {@code Uni} or {@code CompletionStage}, or
 * annotated with {@code @NonBlocking}, runs on the event loop, and any other method on a worker thread.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
public @interface OnLeaderNotification {

    /**
     * The notification channel: 1 to 63 bytes of UTF-8, case-sensitive (it is quoted as an identifier).
     */
    String value();

    /**
     * Whether notifications on this channel are passed to this method one at a time, in arrival order: the next one
     * starts when the previous call (or the {@code Uni}/{@code CompletionStage} it returned) has completed. Set it to
     * {@code false} to let calls overlap, up to {@code quarkus.leader.delivery.max-concurrency} at once. Either way the
     * notifications that wait are kept in the method's bounded mailbox ({@code quarkus.leader.delivery.queue-size}).
     */
    boolean ordered() default true;

    /**
     * The election whose leader handles the notifications: the default election, or a named one configured with
     * {@code quarkus.leader."name".*}. An election that is not configured fails the build.
     */
    String election() default LeaderElection.DEFAULT_NAME;

    /**
     * Whether the channel is durable: its messages, sent with {@link LeaderElection#send(String, Object)} or the SQL
     * function {@code quarkus_leader_send(channel, payload)}, are stored in PostgreSQL and handed to this method on the
     * leader at least once, none lost while no leader listens. One durable method per channel and election. Besides the
     * payload, a durable method may take an {@code io.vertx.mutiny.sqlclient.SqlConnection} as its second parameter and
     * must then return {@code Uni<Void>}: what it runs on that connection commits in one fenced transaction of the
     * leader's term together with the message's acknowledgement, so that its effect happens exactly once.
     */
    boolean durable() default false;
}
