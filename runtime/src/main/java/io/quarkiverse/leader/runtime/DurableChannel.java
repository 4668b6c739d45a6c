package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Hands the messages of one durable channel to its method on the leader: fetches the pending messages in id order, a
 * batch at a time (bounded in count and bytes), hands each to its method (one at a time when it is ordered; a failing
 * one is retried before the channel goes on), deletes the handled ones, and fetches again while there is more.
 * Confined to the event-loop context its method is called on, a private one of the application's Vert.x created for
 * the election (the election calls in from its own);
 * each leadership is one {@link Run}, dropped at step-down, so that a late answer of an old run acts on nothing.
 */
final class DurableChannel {

    private static final Logger LOG = Logger.getLogger(DurableChannel.class);

    /** Counting stops here: the cost of a count is bounded, whatever the backlog. */
    static final int COUNT_LIMIT = 100_000;

    private final NotificationMethod method;
    private final MessageAttempts attempts;
    private final LeaderMetrics metrics;
    private final MessageStore store;
    private final DatasourcePool pool;
    private final Context context;
    private final Executor onContext;
    private final BooleanSupplier leading;
    private final Limits limits;
    private final MessageAttempts.Policy policy;
    private final Duration queryTimeout;
    private volatile Run run; // also read by the election, and where a retry's backoff resumes, on a worker thread
    private volatile double backlog = Double.NaN; // as last counted while leading
    private boolean counting;
    private int acks; // acknowledgements under way, of this run and of one before it
    private final AtomicBoolean wakePending = new AtomicBoolean(); // one wake-up queued on the context at most
    private final AtomicReference<WakeupMessage> offered = new AtomicReference<>(); // one queued at most, too
    private long highestSeen = Long.MIN_VALUE; // the highest id fetched or handed over, on the context
    private boolean fetchFailing;

    DurableChannel(NotificationMethod method, MethodCall call, MessageStore store, DatasourcePool pool, Context context,
            BooleanSupplier leading, Limits limits, Duration queryTimeout, MessageAttempts.Policy policy,
            LeaderMetrics metrics, FencedTransactions fenced) {
        this.method = method;
        this.metrics = metrics;
        this.store = store;
        this.pool = pool;
        this.context = context;
        this.onContext = task -> context.runOnContext(v -> task.run());
        this.leading = leading;
        this.limits = limits;
        this.policy = policy;
        this.queryTimeout = queryTimeout;
        metrics.durableBacklog(method.election, method.channel, () -> backlog);
        this.attempts = new MessageAttempts(method, call, store, pool, policy, onContext, queryTimeout, metrics,
                method.fencedConnection ? fenced : null);
    }

    /**
     * How much of a channel the leader holds and runs at once.
     *
     * @param batchSize the most messages a fetch brings
     * @param maxPayloadBytes the largest payload it reads; a larger one becomes a dead letter unread
     * @param maxPayloadProperty the setting of {@code maxPayloadBytes}, named in that dead letter's error
     * @param concurrency the most calls at once of a method that is not ordered
     */
    record Limits(int batchSize, long maxPayloadBytes, String maxPayloadProperty, int concurrency) {

        /** A fetch stops once its payloads reach this many bytes: it holds at most these and one more payload. */
        static final long BATCH_BYTES = 8L << 20;
    }

    String channel() {
        return method.channel;
    }

    /** Leadership begins: the backlog is drained at once. */
    void start() {
        Run started = new Run();
        run = started; // at once: a stop() that follows wins over the wake-up below
        context.runOnContext(v -> started.wake());
    }

    /** Leadership ends: no new call starts; a call under way finishes unacknowledged or acknowledged, either is fine. */
    void stop() {
        run = null;
        backlog = Double.NaN;
    }

    /** The pending messages as last counted while leading, NaN otherwise; the count stops at {@value #COUNT_LIMIT}. */
    double backlog() {
        return run != null ? backlog : Double.NaN; // a count that lands after stop() must not show
    }

    /** Counts the pending messages, on the leader, one count at a time. */
    void countBacklog() {
        context.runOnContext(v -> count());
    }

    private void count() {
        Run counted = run;
        if (counted == null || counting) {
            return;
        }
        counting = true;
        pool.read(store.table().backlogSql(), Tuple.of(method.channel, COUNT_LIMIT))
                .ifNoItem().after(queryTimeout).fail().emitOn(onContext)
                .subscribe().with(rows -> {
                    counting = false;
                    if (run == counted) {
                        backlog = rows.iterator().next().getLong(0);
                    }
                }, failure -> counting = false);
    }

    /**
     * Whether no call and no acknowledgement is under way: what a leaving leader waits for. On the channel's context,
     * where a call's end and its acknowledgement's start happen in one turn, so that no reading falls between them.
     */
    boolean idle() {
        return !attempts.calling() && acks == 0;
    }

    /** The context the channel runs on. */
    Context context() {
        return context;
    }

    /** A message may have committed: fetch, now or once the batch under way is done. */
    void wake() {
        if (wakePending.compareAndSet(false, true)) { // a commit's wake-up and a poll's come to one fetch anyway
            context.runOnContext(v -> {
                wakePending.set(false);
                Run current = run;
                if (current != null) {
                    current.wake();
                }
            });
        }
    }

    /**
     * A message committed and its wake-up carries it: handed to the method as it is, if nothing is pending before it,
     * or else a wake-up like any other.
     */
    void offer(WakeupMessage message) {
        if (!offered.compareAndSet(null, message)) {
            wake(); // one under way already: this one the fetch after it brings
            return;
        }
        context.runOnContext(v -> {
            WakeupMessage taken = offered.getAndSet(null);
            Run current = run;
            if (current != null) {
                current.offer(taken);
            }
        });
    }

    /** One leadership's delivery; at most one batch in flight. */
    private final class Run {

        private boolean busy;
        private boolean again;
        private int unrecorded; // batches in a row whose failures or acknowledgement could not be written
        private long pausedUntil = System.nanoTime();
        private boolean stalled; // a failure of this batch could not be recorded: the rest of it waits
        private boolean caughtUp; // the last batch was handled whole and nothing was left behind it

        void wake() {
            again = true;
            if (!busy) {
                fetch();
            }
        }

        /**
         * A message from its wake-up, handed over as it is only when nothing is pending before it as far as this leader
         * knows, and when its id is above every id seen: a wake-up may reach the leader after a fetch that its commit
         * came before has brought the message, and a late commit of a lower id is the fetch's to bring.
         */
        void offer(WakeupMessage message) {
            if (busy || !caughtUp || message.id() <= highestSeen || !current()
                    || System.nanoTime() - pausedUntil < 0) {
                wake();
                return;
            }
            highestSeen = message.id();
            busy = true;
            again = false;
            deliver(List.of(message.message(limits.maxPayloadBytes()))); // its digest only for one handed over
        }

        private boolean current() {
            return run == this && leading.getAsBoolean();
        }

        private void fetch() {
            if (!current() || System.nanoTime() - pausedUntil < 0) {
                return; // a paused channel fetches when its pause's own timer wakes it
            }
            busy = true;
            again = false;
            caughtUp = false; // until its batch is handled whole: a fetch that fails may leave messages behind
            bounded(store.ready().chain(() -> pool.readChecked(store.table().fetchOnPrimarySql(),
                    Tuple.of(method.channel, limits.batchSize(), limits.maxPayloadBytes(), Limits.BATCH_BYTES))))
                    .subscribe().with(rows -> {
                        fetchFailing = false;
                        List<DurableMessage> batch = new ArrayList<>(rows.size());
                        for (Row row : rows) {
                            if (row.getValue("id") == null) {
                                continue; // none pending: the row of the primary check alone
                            }
                            DurableMessage message = DurableMessage.of(row);
                            highestSeen = Math.max(highestSeen, message.id());
                            batch.add(message);
                        }
                        batch.sort(Comparator.comparingLong(DurableMessage::id)); // a join's rows come in no set order
                        deliver(batch);
                    }, failure -> {
                        if (fetchFailing) { // said once until a fetch succeeds again, not every poll-interval
                            LOG.debugf("Still cannot fetch the durable messages of channel '%s' (%s)", method.channel,
                                    SessionSetup.describe(failure));
                        } else {
                            LOG.warnf("Could not fetch the durable messages of channel '%s' (%s); trying again at each"
                                    + " wake-up and poll", method.channel, SessionSetup.describe(failure));
                        }
                        fetchFailing = true;
                        busy = false;
                    });
        }

        private void deliver(List<DurableMessage> batch) {
            List<DurableMessage> handled = new ArrayList<>(batch.size());
            stalled = false;
            caughtUp = false;
            Uni<Boolean> calls = method.ordered ? inOrder(batch, 0, handled) : together(batch, handled);
            calls.chain(complete -> ack(handled).replaceWith(complete))
                    .subscribe().with(complete -> {
                        busy = false;
                        if (stalled) {
                            pause();
                            return;
                        }
                        unrecorded = 0;
                        // one cut short (a step-down) waits for a wake-up or poll
                        if (complete && (again || mayHaveMore(batch))) {
                            fetch();
                        } else {
                            caughtUp = complete;
                        }
                    }, failure -> {
                        LOG.warnf("Could not acknowledge %d durable message(s) of channel '%s' (%s); they are handed"
                                + " over again after a pause", handled.size(), method.channel,
                                SessionSetup.describe(failure));
                        busy = false;
                        pause(); // or every poll would call their methods again
                    });
        }

        /** Whether more messages may wait behind the batch: it is full, or it stopped at its byte budget. */
        private boolean mayHaveMore(List<DurableMessage> batch) {
            if (batch.size() == limits.batchSize()) {
                return true;
            }
            long bytes = 0;
            for (DurableMessage message : batch) {
                bytes += message.oversize() ? 0 : message.size();
            }
            return bytes >= Limits.BATCH_BYTES;
        }

        /** One call at a time, in id order; the first one that does not succeed holds the rest back. */
        private Uni<Boolean> inOrder(List<DurableMessage> batch, int next, List<DurableMessage> handled) {
            if (next == batch.size()) {
                return Uni.createFrom().item(true);
            }
            return handle(batch.get(next), handled)
                    .chain(ok -> ok ? inOrder(batch, next + 1, handled) : Uni.createFrom().item(false));
        }

        /** The calls of the batch side by side, at most {@code max-concurrency} at once, for a method that is not ordered. */
        private Uni<Boolean> together(List<DurableMessage> batch, List<DurableMessage> handled) {
            return Multi.createFrom().iterable(batch).onItem().transformToUni(message -> handle(message, handled))
                    .merge(limits.concurrency()).collect().asList().map(oks -> !oks.contains(false));
        }

        /** Hands the message over until it is handled or a dead letter: true, or false when it stays pending. */
        private Uni<Boolean> handle(DurableMessage message, List<DurableMessage> handled) {
            if (!current() || stalled) {
                return Uni.createFrom().item(false);
            }
            // from its insert, by the database's clock, to the moment it is handed to its method
            metrics.durableHandedOver(method.election, method.channel, method.description,
                    Duration.between(message.sentAt().toInstant(), Instant.now()));
            Uni<MessageAttempts.Outcome> outcome = message.oversize()
                    ? attempts.refuse(message, "its payload has " + message.size() + " bytes of UTF-8; "
                            + limits.maxPayloadProperty() + " allows at most " + limits.maxPayloadBytes()
                            + " (it was stored past send's check, by SQL)")
                    : attempts.deliver(message, this::current, () -> ackHandled(handled));
            return outcome.map(done -> switch (done) {
                case HANDLED -> {
                    handled.add(message);
                    yield true;
                }
                case ACKNOWLEDGED -> { // with the method's own transaction
                    metrics.durableDelivered(method.election, method.channel, method.description, 1);
                    yield true;
                }
                case DEAD_LETTER -> true; // out of the flow: the channel goes on
                case PENDING -> false;
                case UNRECORDED -> {
                    stalled = true; // the calls of the batch not started yet wait for the pause
                    yield false;
                }
            });
        }

        /**
         * A failure of the batch, or its acknowledgement, could not be recorded (the storage failing): attempts do not
         * count, so without a pause the next poll would call the method again, and again, at the poll's pace. The pause
         * doubles, batch after batch, as a retry's backoff does.
         */
        private void pause() {
            unrecorded++;
            Duration delay = policy.initialDelay().multipliedBy(1L << Math.min(unrecorded - 1, 20));
            if (delay.compareTo(policy.maxDelay()) > 0) {
                delay = policy.maxDelay();
            }
            pausedUntil = System.nanoTime() + delay.toNanos();
            LOG.debugf("Durable channel '%s' pauses for %s", method.channel, delay);
            context.owner().setTimer(delay.toMillis() + 1, id -> { // on the channel's context, set from it
                if (run == this) {
                    wake();
                }
            });
        }

        /**
         * Acknowledges what the batch has handled so far, before a failed message's backoff: a departure or a crash
         * during the retries must not hand those messages over again.
         */
        private Uni<Void> ackHandled(List<DurableMessage> handled) {
            List<DurableMessage> done = new ArrayList<>(handled);
            handled.removeAll(done);
            return ack(done)
                    .onFailure().recoverWithUni(failure -> {
                        handled.addAll(done); // with the batch's own acknowledgement, then
                        return Uni.createFrom().voidItem();
                    });
        }

        /** Deletes the rows of {@code messages}; one from its wake-up only if its row matches the wake-up. */
        private Uni<Void> ack(List<DurableMessage> messages) {
            if (messages.isEmpty()) {
                return Uni.createFrom().voidItem();
            }
            DurableMessage first = messages.get(0); // one from its wake-up comes alone: see offer()
            String sql = first.digest() != null ? store.table().ackHandedOverSql() : store.table().ackSql();
            Tuple params = first.digest() != null ? Tuple.of(first.id(), first.digestParameter())
                    : Tuple.of(messages.stream().map(DurableMessage::id).toArray(Long[]::new));
            return Uni.createFrom().deferred(() -> {
                acks++;
                return bounded(pool.write(sql, params));
            })
                    .onTermination().invoke(() -> acks--) // on the context: bounded() emits there
                    .invoke(rows -> {
                        metrics.durableDelivered(method.election, method.channel, method.description, rows.rowCount());
                        if (first.digest() != null && rows.rowCount() == 0) {
                            again = true; // its row was not the wake-up's (a trigger of the user's?): a fetch tells
                        }
                    })
                    .replaceWithVoid();
        }

        /** A query bounded in time, answered on the election's context. */
        private <T> Uni<T> bounded(Uni<T> query) {
            return query.ifNoItem().after(queryTimeout).fail().emitOn(onContext);
        }
    }
}
