package io.quarkiverse.leader.runtime;

import java.time.OffsetDateTime;

import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Row;

/**
 * A pending message as the leader fetched it.
 *
 * @param id its id, from the table's sequence
 * @param payload its payload, as sent; {@code null} when it is larger than the leader reads
 * @param size its payload's size in bytes of UTF-8
 * @param attempts how many times its method has failed on it so far
 * @param sentAt when it was stored, by the database's clock
 * @param digest for a message that came in its wake-up, the digest of its channel and payload there, which the writes
 *        on it require of the stored row; null for one fetched from the table
 */
record DurableMessage(long id, String payload, int size, int attempts, OffsetDateTime sentAt, byte[] digest) {

    static DurableMessage of(Row row) {
        return new DurableMessage(row.getLong("id"), row.getString("payload"), row.getInteger("size"),
                row.getInteger("attempts"), row.getOffsetDateTime("sent_at"), null);
    }

    /** {@link #digest()} as a statement's parameter, or null. */
    Buffer digestParameter() {
        return digest == null ? null : Buffer.buffer(digest);
    }

    /** Whether its payload was left unread for its size. */
    boolean oversize() {
        return payload == null;
    }
}
