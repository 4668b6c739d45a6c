package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;

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
    private final Supplier<Context> batchContext;
    private final Set<Pending> waiting = new LinkedHashSet<>(); // in arrival order; a withdrawal is O(1)
    private long waitingChars;
    private int inFlight;

    /**
     * @param slotBound how long a statement may hold its place before the next may leave (it runs on, detached)
     * @param batchContext where a statement of several senders runs: none of theirs, so that no request's
     *        context-local data (a trace, say) goes with the others' messages
     */
    SendBatches(DatasourcePool pool, MessageStore store, Duration slotBound, Supplier<Context> batchContext) {
        this.pool = pool;
        this.store = store;
        this.slotBound = slotBound;
        this.batchContext = batchContext;
    }

    /**
     * Stores {@code payload} on {@code channel}; the message's id once its statement committed. The caller goes on on
     * {@code callers}, the context it sent from (when it has one).
     */
    Uni<Long> send(String channel, String payload, Context callers) {
        return Uni.createFrom().emitter(e -> {
            Pending pending = new Pending(channel, payload, e, callers);
            boolean alone;
            List<Pending> batch = null;
            synchronized (this) {
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
            e.onTermination(() -> withdraw(pending));
            if (batch != null) {
                run(batch, new AtomicBoolean());
            }
        });
    }

    private synchronized void withdraw(Pending pending) {
        if (waiting.remove(pending)) {
            waitingChars -= pending.payload.length();
        }
    }

    /** The next batch, taken off the queue, when a statement may leave now. */
    private List<Pending> next() {
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
        return batch;
    }

    /**
     * Sends {@code batch}. {@code slot}, when it holds one of the {@link #IN_FLIGHT} places, is given up once: when the
     * statement ends, or after {@link #slotBound} should it not (a connection that never answers must not hold up
     * every later send).
     */
    private void run(List<Pending> batch, AtomicBoolean slot) {
        if (batch.size() == 1) {
            send(batch, slot);
        } else {
            VertxContext.createNewDuplicatedContext(batchContext.get()).runOnContext(v -> send(batch, slot));
        }
    }

    private void send(List<Pending> batch, AtomicBoolean slot) {
        Uni<Long[]> statement;
        try {
            statement = statement(batch);
        } catch (RuntimeException failure) {
            statement = Uni.createFrom().failure(failure);
        }
        if (slot != null) {
            Vertx vertx = batchContext.get().owner();
            long timer = vertx.setTimer(Math.max(1, slotBound.toMillis()), id -> free(slot));
            // the place first, then the outcomes: the next statement need not wait for the callers' code
            statement = statement.onTermination().invoke(() -> {
                vertx.cancelTimer(timer);
                free(slot);
            });
        }
        statement.subscribe().with(ids -> {
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).complete(ids[i]);
            }
        }, failure -> {
            if (batch.size() > 1 && onlySomeMayFail(failure)) {
                // one message the table refuses (a constraint, a trigger) must not fail the others: each again, alone
                LOG.debugf("A statement of %d durable sends failed (%s): sending each alone", batch.size(), failure);
                batch.forEach(pending -> send(List.of(pending), null));
                return;
            }
            batch.forEach(pending -> pending.fail(failure));
        });
    }

    /** An error of the data (class 22), a constraint (23) or a function or trigger (P0): about some rows, maybe. */
    private static boolean onlySomeMayFail(Throwable failure) {
        return failure instanceof PgException e && e.getSqlState() != null
                && (e.getSqlState().startsWith("22") || e.getSqlState().startsWith("23")
                        || e.getSqlState().startsWith("P0"));
    }

    private void free(AtomicBoolean slot) {
        if (!slot.compareAndSet(false, true)) {
            return;
        }
        List<Pending> batch;
        synchronized (this) {
            inFlight--;
            batch = next();
        }
        if (batch != null) {
            run(batch, new AtomicBoolean());
        }
    }

    /** The ids of {@code batch}'s messages, in its order, once its statement committed. */
    private Uni<Long[]> statement(List<Pending> batch) {
        if (batch.size() == 1) {
            Pending only = batch.get(0);
            return pool.write(store.table().sendSql(), Tuple.of(only.channel, only.payload))
                    .map(rows -> new Long[] { rows.iterator().next().getLong(0) });
        }
        String[] channels = new String[batch.size()];
        String[] payloads = new String[batch.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = batch.get(i).channel;
            payloads[i] = batch.get(i).payload;
        }
        return pool.write(store.table().sendManySql(), Tuple.of(channels, payloads)).map(rows -> {
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
            try {
                if (context == null || Vertx.currentContext() == context) {
                    outcome.run();
                } else {
                    context.runOnContext(v -> outcome.run());
                }
            } catch (RuntimeException e) {
                LOG.debugf("The caller of a durable send failed on its outcome: %s", e);
            }
        }
    }
}
