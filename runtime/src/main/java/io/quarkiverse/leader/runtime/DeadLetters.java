package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderElection;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Reads the dead letters of a durable channel and puts one back into the flow; from any instance.
 */
final class DeadLetters {

    private final MessageStore store;
    private final DatasourcePool pool;
    private final Duration timeout;
    private final String timeoutProperty;
    private final long maxPayloadBytes;

    DeadLetters(MessageStore store, DatasourcePool pool, Duration timeout, String timeoutProperty, long maxPayloadBytes) {
        this.store = store;
        this.pool = pool;
        this.timeout = timeout;
        this.timeoutProperty = timeoutProperty;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    /** A page of dead letters: bounded in count, and in bytes beyond its first, so that a page fits in memory. */
    Uni<List<DeadLetter>> of(String channel, long afterId) {
        try {
            Channels.validateChannel(channel);
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(e);
        }
        return store.ready().chain(() -> pool.read(store.table().deadLettersSql(),
                Tuple.of(channel, afterId, LeaderElection.MAX_DEAD_LETTERS, maxPayloadBytes,
                        DurableChannel.Limits.BATCH_BYTES)))
                .map(rows -> {
                    List<DeadLetter> letters = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        letters.add(new DeadLetter(row.getLong("id"), row.getString("channel"), row.getString("payload"),
                                row.getInteger("attempts"), row.getString("last_error")));
                    }
                    return List.copyOf(letters);
                })
                .ifNoItem().after(timeout).failWith(() -> late("read the dead letters of channel '" + channel + "'"));
    }

    private TimeoutException late(String what) {
        return new TimeoutException("PostgreSQL did not " + what + " within " + timeout + " (" + timeoutProperty + ")");
    }

    /** How many dead letters of the channel have ids above {@code afterId}, counted up to {@code limit}. */
    Uni<Long> count(String channel, long afterId, int limit) {
        return store.ready().chain(() -> pool.read(store.table().deadCountSql(),
                Tuple.of(channel, afterId, limit)))
                .map(rows -> rows.iterator().next().getLong(0))
                .ifNoItem().after(timeout).failWith(() -> late("count the dead letters of channel '" + channel + "'"));
    }

    /** In one statement with the leader's wake-up, which PostgreSQL delivers as it commits. */
    Uni<Boolean> redeliver(long id) {
        return store.ready().chain(() -> pool.write(store.table().redeliverSql(), Tuple.of(id)))
                .map(rows -> rows.size() > 0)
                .ifNoItem().after(timeout).failWith(() -> late("redeliver message " + id));
    }
}
