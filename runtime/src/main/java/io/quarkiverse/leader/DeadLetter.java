package io.quarkiverse.leader;

/**
 * A durable message taken out of the flow: its method failed on it {@code quarkus.leader.durable.max-attempts} times,
 * or its payload could not be read as the method's parameter. It stays in the message table until
 * {@link LeaderElection#redeliver(long)} puts it back or someone deletes it.
 *
 * @param id the message's id
 * @param channel its durable channel
 * @param payload its payload, as sent; {@code null} when it is larger than {@code quarkus.leader.durable.max-payload-size}
 *        (stored by SQL, past {@code send}'s check), which its {@code lastError} then says: read it with SQL
 * @param attempts how many times it was handed over: calls of its method, or 1 for a payload that could not be read
 * @param lastError the last failure, as {@code ExceptionClass: message}
 */
public record DeadLetter(long id, String channel, String payload, int attempts, String lastError) {
}
