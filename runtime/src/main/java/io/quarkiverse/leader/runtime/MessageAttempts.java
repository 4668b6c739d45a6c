package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.FencedException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Hands one durable message to its method until it succeeds: each failure is recorded in the message's row (attempts,
 * last error), the next call comes after a backoff, and the failure that reaches {@code max-attempts}, or a payload that
 * cannot be read, makes it a dead letter. A method that takes the connection runs in a fenced transaction that also
 * acknowledges the message, so that its effect commits once.
 */
final class MessageAttempts {

    private static final Logger LOG = Logger.getLogger(MessageAttempts.class);

    /** What became of a message. */
    enum Outcome {
        /** The method succeeded: acknowledge it. */
        HANDLED,
        /** The method's effect and the acknowledgement committed together, in a fenced transaction. */
        ACKNOWLEDGED,
        /** Out of the flow, kept in the table. */
        DEAD_LETTER,
        /** Leadership ended: it stays pending for the next leader. */
        PENDING,
        /** Its failure could not be recorded: it stays pending, and the channel waits before it fetches again. */
        UNRECORDED
    }

    /** The settings a failing message is retried with. */
    record Policy(Duration initialDelay, Duration maxDelay, int maxAttempts, Duration callTimeout) {
    }

    private final NotificationMethod method;
    private final MethodCall call;
    private final MessageStore store;
    private final DatasourcePool pool;
    private final Policy policy;
    private final Executor onContext;
    private final Duration queryTimeout;
    private final LeaderMetrics metrics;
    private final FencedTransactions fenced;
    private final AtomicInteger calling = new AtomicInteger();

    /** @param fenced the fenced transactions, for a method that takes the connection; {@code null} for the others */
    MessageAttempts(NotificationMethod method, MethodCall call, MessageStore store, DatasourcePool pool, Policy policy,
            Executor onContext, Duration queryTimeout, LeaderMetrics metrics, FencedTransactions fenced) {
        this.fenced = fenced;
        this.method = method;
        this.call = call;
        this.store = store;
        this.pool = pool;
        this.policy = policy;
        this.onContext = onContext;
        this.queryTimeout = queryTimeout;
        this.metrics = metrics;
    }

    /**
     * Calls the method on {@code message}, again after each failure, while {@code current} holds; {@code beforeRetry}
     * runs once a failure is recorded, before the backoff (the channel acknowledges what it has handled so far).
     */
    Uni<Outcome> deliver(DurableMessage message, BooleanSupplier current, Supplier<Uni<Void>> beforeRetry) {
        int[] attempts = { message.attempts() }; // as stored: a new leader goes on counting where the old one stopped
        return Uni.createFrom().deferred(() -> {
            calling.incrementAndGet();
            return attempt(message, current);
        })
                .emitOn(onContext)
                .onFailure(e -> !notTheMethods(e)).recoverWithUni(failure -> {
                    attempts[0]++;
                    boolean invalid = failure instanceof MethodCall.InvalidPayloadException;
                    boolean dead = invalid || attempts[0] >= policy.maxAttempts();
                    return record(message, failure, dead)
                            .invoke(() -> log(message, failure, attempts[0], invalid, dead)) // as recorded
                            .call(() -> dead ? Uni.createFrom().voidItem() : beforeRetry.get())
                            .chain(() -> Uni.createFrom().failure(dead ? new DeadLettered(failure) : failure));
                })
                // once a failure is recorded and what the batch handled is acknowledged, not before: a drain must wait
                // for both; on the context, in the turn that goes on to the acknowledgement of a success
                .onTermination().invoke(calling::decrementAndGet)
                .onFailure(e -> !(e instanceof DeadLettered) && !(e instanceof RecordFailed) && !notTheMethods(e)
                        && current.getAsBoolean())
                .retry().withBackOff(policy.initialDelay(), policy.maxDelay()).indefinitely() // ends at max-attempts
                .map(outcome -> outcome == MethodCall.SKIPPED ? Outcome.PENDING
                        : outcome == COMMITTED ? Outcome.ACKNOWLEDGED : Outcome.HANDLED)
                .onFailure(DeadLettered.class).recoverWithItem(Outcome.DEAD_LETTER)
                .onFailure(AlreadyGone.class).recoverWithItem(Outcome.ACKNOWLEDGED)
                .onFailure(RecordFailed.class).recoverWithItem(Outcome.UNRECORDED)
                .onFailure().recoverWithItem(Outcome.PENDING); // on the context already: every path above ends there
    }

    /** Makes the message a dead letter without a call: its payload cannot be handed over, for {@code reason}. */
    Uni<Outcome> refuse(DurableMessage message, String reason) {
        return record(message, new IllegalArgumentException(reason), true)
                .invoke(() -> { // once it is one: a dead letter that could not be recorded is still pending
                    LOG.errorf("Durable message %d of channel '%s' is a dead letter: %s", message.id(), method.channel,
                            reason);
                    metrics.deadLettered(method.election, method.channel, method.description);
                })
                .replaceWith(Outcome.DEAD_LETTER)
                .onFailure(AlreadyGone.class).recoverWithItem(Outcome.ACKNOWLEDGED) // gone meanwhile
                .onFailure().recoverWithItem(Outcome.UNRECORDED);
    }

    /** Whether a call of the method (with its fenced transaction, or the recording of its failure) is under way. */
    boolean calling() {
        return calling.get() > 0;
    }

    /** One call; for a method that takes the connection, in a fenced transaction with the acknowledgement. */
    private Uni<Object> attempt(DurableMessage message, BooleanSupplier current) {
        if (!current.getAsBoolean()) {
            return Uni.createFrom().item(MethodCall.SKIPPED);
        }
        if (fenced == null) {
            return bounded(Uni.createFrom().completionStage(() -> call.run(message.payload(), MethodCall.ALWAYS)));
        }
        // the acknowledgement goes with COMMIT; gone meanwhile, it fails, and the transaction rolls back, or the
        // method's effect would happen twice
        return fenced.run(conn -> bounded(Uni.createFrom()
                .completionStage(() -> call.run(message.payload(), MethodCall.ALWAYS, conn)))
                .chain(outcome -> outcome == MethodCall.SKIPPED
                        ? Uni.createFrom().failure(new FencedException("leadership ended before the method could run"))
                        : Uni.createFrom().item(COMMITTED)),
                store.table().ackOneSql(message),
                e -> MessageTable.notPending(e) ? new AlreadyGone() : e);
    }

    /** The call, failed as a failed attempt once it has taken {@code call-timeout}. */
    private Uni<Object> bounded(Uni<Object> call) {
        return call.ifNoItem().after(policy.callTimeout())
                .failWith(() -> new TimeoutException(method.description + " did not complete within call-timeout "
                        + policy.callTimeout()));
    }

    /** Failures that say nothing about the method: its term ended, or the message was handled already. */
    private static boolean notTheMethods(Throwable failure) {
        return failure instanceof FencedException || failure instanceof AlreadyGone;
    }

    private void log(DurableMessage message, Throwable failure, int attempts, boolean invalid, boolean dead) {
        if (invalid) {
            LOG.errorf("Durable message %d of channel '%s' is a dead letter: its payload is not a valid %s for %s (%s)",
                    message.id(), method.channel, method.payloadType, method.description, failure.getCause().getMessage());
        } else if (dead) {
            LOG.errorf(failure, "Durable message %d of channel '%s' is a dead letter: %s failed on it %d time(s)",
                    message.id(), method.channel, method.description, attempts);
        } else {
            LOG.warnf("%s failed on durable message %d of channel '%s' (attempt %d of %d, %s); it is retried%s",
                    method.description, message.id(), method.channel, attempts, policy.maxAttempts(), failure,
                    method.ordered ? " before the channel goes on" : "");
        }
        if (dead) {
            metrics.deadLettered(method.election, method.channel, method.description);
        } else {
            metrics.retried(method.election, method.channel, method.description);
        }
    }

    /** The failure goes into the row; should that fail too, the message stays pending as it was. */
    private Uni<Void> record(DurableMessage message, Throwable failure, boolean dead) {
        Throwable error = failure instanceof MethodCall.InvalidPayloadException && failure.getCause() != null
                ? failure.getCause()
                : failure;
        return pool.write(store.table().failedAttemptSql(),
                Tuple.of(message.id(), describe(error), dead, message.digestParameter()))
                .ifNoItem().after(queryTimeout).fail()
                // acknowledged meanwhile (a late commit of its own, another instance), or deleted: nothing to record
                .chain(rows -> rows.rowCount() == 1 ? Uni.createFrom().item(rows)
                        : Uni.createFrom().failure(new AlreadyGone()))
                .onFailure(e -> !(e instanceof AlreadyGone)).transform(e -> {
                    LOG.warnf("Could not record the failure of durable message %d of channel '%s' (%s) by %s (%s);"
                            + " it stays pending, and the channel pauses before it tries again", message.id(),
                            method.channel, error, method.description, SessionSetup.describe(e));
                    return new RecordFailed(e);
                })
                .replaceWithVoid()
                .emitOn(onContext);
    }

    static String describe(Throwable error) {
        String text = error.getClass().getName() + (error.getMessage() != null ? ": " + error.getMessage() : "");
        return text.length() <= 2000 ? text : text.substring(0, 2000) + "...";
    }

    /** What a fenced attempt whose acknowledgement committed completes with. */
    private static final Object COMMITTED = new Object();

    /** The message's row was gone by the time the fenced attempt acknowledged it. */
    private static final class AlreadyGone extends RuntimeException {
        AlreadyGone() {
            super("the message was acknowledged already", null, false, false);
        }
    }

    /** The message became a dead letter. */
    private static final class DeadLettered extends RuntimeException {
        DeadLettered(Throwable cause) {
            super(cause);
        }
    }

    /** A failure that could not be written to the message's row. */
    private static final class RecordFailed extends RuntimeException {
        RecordFailed(Throwable cause) {
            super(cause);
        }
    }
}
