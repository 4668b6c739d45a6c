package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * Group commit for the pool's durable sends. A send goes out at once while fewer than {@link #IN_FLIGHT} statements
 * are on their way; the sends that come meanwhile wait and then go together, in one statement and one transaction, so
 * that concurrent senders share a commit and its wake-up (the commit-time notification lock that every NOTIFY takes
 * serialises the server's commits). Each message is still stored exactly when its statement commits.
 */
final class SendBatches {

    private static final Logger LOG = Logger.getLogger(SendBatches.class);

    /** Statements on their way at once: one fills while another is answered. */
    static final int IN_FLIGHT = 2;

    /** Messages in one statement. */
    static final int BATCH_MESSAGES = 256;

    /** Characters of payload in one statement, after its first message. */
    static final long BATCH_CHARS = 4L * 1024 * 1024;

    /** Sends that may wait for a statement, and their characters of payload; beyond, a send goes on its own. */
    static final int WAITING = 4096;
    static final long WAITING_CHARS = 64L * 1024 * 1024;

    private final DatasourcePool pool;
    private final MessageStore store;
    private final Duration slotBound;
    private final Supplier<Context> freshContext;
    private final Set<Pending> waiting = new LinkedHashSet<>(); // in arrival order; a withdrawal is O(1)
    private long waitingChars;
    private final Deque<Slot> active = new ArrayDeque<>(); // the places taken, oldest first
    private int inFlight;

    /**
     * @param slotBound how long a statement may hold its place before the next may leave (it runs on, detached)
     * @param freshContext a new event-loop context, for a statement of senders of several contexts: none of theirs, so
     *        that no request's context-local data (a trace, say) goes with the others' messages
     */
    SendBatches(DatasourcePool pool, MessageStore store, Duration slotBound, Supplier<Context> freshContext) {
        this.pool = pool;
        this.store = store;
        this.slotBound = slotBound;
        this.freshContext = freshContext;
    }

    /**
     * Stores {@code payload} on {@code channel}; the message's id once its statement committed. The caller goes on on
     * {@code callers}, the context it sent from (when it has one).
     */
    Uni<Long> send(String channel, String payload, Context callers) {
        return Uni.createFrom().emitter(e -> {
            Pending pending = new Pending(channel, payload, e, callers);
            boolean alone;
            Batch batch = null;
            synchronized (this) {
                expire();
                // the queue is full: alone, beside the batches, as unbatched sends would
                alone = waiting.size() >= WAITING || waitingChars + payload.length() > WAITING_CHARS;
                if (!alone) {
                    waiting.add(pending);
                    waitingChars += payload.length();
                    batch = next();
                }
            }
            if (alone) {
                run(List.of(pending), null);
                return;
            }
            // a caller that gives up while its message waits takes it out: it is never stored
            e.onTermination(() -> {
                pending.gone = true;
                withdraw(pending);
            });
            if (batch != null) {
                run(batch.messages, batch.slot);
            }
        });
    }

    /**
     * Gives up the places of statements that have held them for {@link #slotBound}: a connection that never answers
     * must not hold up every later send. Such a statement runs on, detached.
     */
    private void expire() {
        long now = System.nanoTime();
        while (!active.isEmpty() && now - active.peekFirst().since > slotBound.toNanos()) {
            if (active.pollFirst().compareAndSet(false, true)) {
                inFlight--;
            }
        }
    }

    private synchronized void withdraw(Pending pending) {
        if (waiting.remove(pending)) {
            waitingChars -= pending.payload.length();
        }
    }

    /** The next batch, taken off the queue with a place of its own, when a statement may leave now. */
    private Batch next() {
        if (inFlight >= IN_FLIGHT || waiting.isEmpty()) {
            return null;
        }
        List<Pending> batch = new ArrayList<>();
        long chars = 0;
        for (Iterator<Pending> it = waiting.iterator(); it.hasNext() && batch.size() < BATCH_MESSAGES;) {
            Pending pending = it.next();
            if (!batch.isEmpty() && chars + pending.payload.length() > BATCH_CHARS) {
                break;
            }
            it.remove();
            chars += pending.payload.length();
            waitingChars -= pending.payload.length();
            batch.add(pending);
        }
        inFlight++;
        Slot slot = new Slot();
        active.addLast(slot);
        return new Batch(batch, slot);
    }

    /** Messages that go in one statement, and the place it holds. */
    private record Batch(List<Pending> messages, Slot slot) {
    }

    /** One of the {@link #IN_FLIGHT} places; given up once, when its statement ends or it expires. */
    private static final class Slot extends AtomicBoolean {
        final long since = System.nanoTime();
    }

    /**
     * Sends {@code batch}; {@code slot} is its place, when it holds one (see {@link #expire()}).
     */
    private void run(List<Pending> batch, Slot slot) {
        try {
            // the senders' own context when they share one (one request sending many); else none of theirs
            Context target = commonContext(batch);
            if (target == null && batch.size() > 1) {
                target = freshContext.get();
            }
            if (target == null || Vertx.currentContext() == target) {
                send(batch, slot);
            } else {
                target.runOnContext(v -> send(batch, slot));
            }
        } catch (RuntimeException failure) { // a Vert.x that is closing
            failAll(batch, slot, failure);
        }
    }

    /** The batch fails before its statement is sent, and its place is freed. */
    private void failAll(List<Pending> batch, Slot slot, RuntimeException failure) {
        batch.forEach(pending -> pending.fail(failure));
        if (slot != null) {
            free(slot);
        }
    }

    /** The context all of {@code batch}'s senders sent from, or {@code null} when they differ or have none. */
    private static Context commonContext(List<Pending> batch) {
        Context first = batch.get(0).context;
        for (Pending pending : batch) {
            if (pending.context != first) {
                return null;
            }
        }
        return first;
    }

    private void send(List<Pending> batch, Slot slot) {
        Future<Long[]> statement;
        try {
            statement = statement(batch);
        } catch (RuntimeException failure) {
            failAll(batch, slot, failure);
            return;
        }
        statement.onComplete(ar -> {
            if (slot != null) {
                free(slot); // the place first, then the outcomes: the next statement need not wait for the callers' code
            }
            if (ar.succeeded()) {
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).complete(ar.result()[i]);
                }
            } else if (batch.size() > 1 && onlySomeMayFail(ar.cause())) {
                // nothing committed; one message the table refuses (a constraint, a trigger) must not fail the others:
                // each again alone, one after the other, but those whose callers gave up meanwhile
                LOG.debugf("A statement of %d durable sends failed (%s): sending each alone", batch.size(), ar.cause());
                Future<Void> each = Future.succeededFuture();
                for (Pending pending : batch) {
                    each = each.compose(v -> pending.gone ? Future.succeededFuture() : alone(pending));
                }
                each.onFailure(e -> LOG.debugf("Sending the messages of a refused statement alone stopped: %s", e));
            } else {
                batch.forEach(pending -> pending.fail(ar.cause()));
            }
        });
    }

    /** {@code pending} in a statement of its own: completes once its caller has the outcome. */
    private Future<Void> alone(Pending pending) {
        Future<Long[]> statement;
        try {
            statement = statement(List.of(pending));
        } catch (RuntimeException failure) {
            statement = Future.failedFuture(failure);
        }
        return statement.transform(ar -> {
            if (ar.succeeded()) {
                pending.complete(ar.result()[0]);
            } else {
                pending.fail(ar.cause());
            }
            return Future.succeededFuture();
        });
    }

    /** An error of the data (class 22), a constraint (23) or a function or trigger (P0): about some rows, maybe. */
    private static boolean onlySomeMayFail(Throwable failure) {
        return failure instanceof PgException e && e.getSqlState() != null
                && (e.getSqlState().startsWith("22") || e.getSqlState().startsWith("23")
                        || e.getSqlState().startsWith("P0"));
    }

    private void free(Slot slot) {
        if (!slot.compareAndSet(false, true)) {
            return; // expired
        }
        Batch batch;
        synchronized (this) {
            active.remove(slot);
            inFlight--;
            expire();
            batch = next();
        }
        if (batch != null) {
            run(batch.messages, batch.slot);
        }
    }

    /**
     * The ids of {@code batch}'s messages, in its order, once its statement committed: on the pool's own connection
     * handling, without a layer of its own per statement (see {@link DatasourcePool#send}).
     */
    private Future<Long[]> statement(List<Pending> batch) {
        if (batch.size() == 1) {
            Pending only = batch.get(0);
            return pool.send(store.table().sendSql(), Tuple.of(only.channel, only.payload))
                    .map(rows -> new Long[] { rows.iterator().next().getLong(0) });
        }
        String[] channels = new String[batch.size()];
        String[] payloads = new String[batch.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = batch.get(i).channel;
            payloads[i] = batch.get(i).payload;
        }
        // two array parameters (Tuple.of would spread the second array into parameters of its own)
        Tuple arrays = Tuple.tuple().addArrayOfString(channels).addArrayOfString(payloads);
        return pool.send(store.table().sendManySql(), arrays).map(rows -> {
            Long[] ids = new Long[batch.size()];
            for (Row row : rows) {
                ids[(int) (long) row.getLong(0) - 1] = row.getLong(1);
            }
            return ids;
        });
    }

    /** A send waiting for its statement, and where its caller gets the outcome; equal to itself only. */
    private static final class Pending {

        private final String channel;
        private final String payload;
        private final UniEmitter<? super Long> emitter;
        private final Context context;
        private volatile boolean gone; // its caller has its outcome, or gave up: set while it waits for a statement

        Pending(String channel, String payload, UniEmitter<? super Long> emitter, Context context) {
            this.channel = channel;
            this.payload = payload;
            this.emitter = emitter;
            this.context = context;
        }

        void complete(Long id) {
            onCallersContext(() -> emitter.complete(id));
        }

        void fail(Throwable failure) {
            onCallersContext(() -> emitter.fail(failure));
        }

        /**
         * The caller goes on where it sent from (its request's context, say), not where another's statement ended.
         * Whatever the caller's code throws stays with it: the other senders of the batch still get their outcome.
         */
        private void onCallersContext(Runnable outcome) {
            if (context != null && Vertx.currentContext() != context) {
                try {
                    context.runOnContext(v -> outcome.run());
                    return;
                } catch (RuntimeException closed) { // its context is closing: the outcome all the same, here
                    LOG.debugf("Could not reach the context of a durable send's caller: %s", closed);
                }
            }
            try {
                outcome.run();
            } catch (RuntimeException e) {
                LOG.debugf("The caller of a durable send failed on its outcome: %s", e);
            }
        }
    }
}
