package io.quarkiverse.leader.runtime;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Group commit for the pool's durable sends. A send goes out at once while fewer than {@link #IN_FLIGHT} statements
 * are on their way; the sends that come meanwhile wait and then go together, in one statement and one transaction, so
 * that concurrent senders share a commit and its wake-up (the commit-time notification lock that every NOTIFY takes
 * serialises the server's commits). Each message is still stored exactly when its statement commits: a batch commits
 * whole or not at all, and each of its senders gets the outcome.
 */
final class SendBatches {

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
    private final MessageStore store; // its table, resolved once ready
    private final Set<Pending> waiting = new LinkedHashSet<>(); // in arrival order; a withdrawal is O(1)
    private long waitingChars;
    private int inFlight;

    SendBatches(DatasourcePool pool, MessageStore store) {
        this.pool = pool;
        this.store = store;
    }

    /** Stores {@code payload} on {@code channel}; the message's id once its statement committed. */
    Uni<Long> send(String channel, String payload) {
        return Uni.createFrom().emitter(e -> {
            Pending pending = new Pending(channel, payload, e, Vertx.currentContext());
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
                run(List.of(pending), false);
                return;
            }
            // a caller that gives up while its message waits takes it out: it is never stored
            e.onTermination(() -> withdraw(pending));
            if (batch != null) {
                run(batch, true);
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

    /** Sends {@code batch}; {@code counted} when it holds one of the {@link #IN_FLIGHT} places. */
    private void run(List<Pending> batch, boolean counted) {
        statement(batch).subscribe().with(ids -> {
            for (int i = 0; i < ids.length; i++) {
                batch.get(i).complete(ids[i]);
            }
            done(counted);
        }, failure -> {
            for (Pending pending : batch) {
                pending.fail(failure);
            }
            done(counted);
        });
    }

    /** The ids of {@code batch}'s messages, in its order, once its statement committed. */
    private Uni<long[]> statement(List<Pending> batch) {
        if (batch.size() == 1) {
            Pending only = batch.get(0);
            return pool.write(store.table().sendSql(), Tuple.of(only.channel, only.payload))
                    .map(rows -> new long[] { rows.iterator().next().getLong(0) });
        }
        String[] channels = new String[batch.size()];
        String[] payloads = new String[batch.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = batch.get(i).channel;
            payloads[i] = batch.get(i).payload;
        }
        return pool.write(store.table().sendManySql(), Tuple.of(channels, payloads)).map(rows -> {
            long[] ids = new long[batch.size()];
            for (Row row : rows) {
                ids[(int) (long) row.getLong(0) - 1] = row.getLong(1);
            }
            return ids;
        });
    }

    private void done(boolean counted) {
        if (!counted) {
            return;
        }
        List<Pending> batch;
        synchronized (this) {
            inFlight--;
            batch = next();
        }
        if (batch != null) {
            run(batch, true);
        }
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

        void complete(long id) {
            onCallersContext(() -> emitter.complete(id));
        }

        void fail(Throwable failure) {
            onCallersContext(() -> emitter.fail(failure));
        }

        /** The caller goes on where it sent from (its request's context, say), not where another's statement ended. */
        private void onCallersContext(Runnable outcome) {
            if (context == null || Vertx.currentContext() == context) {
                outcome.run();
            } else {
                context.runOnContext(v -> outcome.run());
            }
        }
    }
}
