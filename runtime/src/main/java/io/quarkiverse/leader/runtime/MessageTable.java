package io.quarkiverse.leader.runtime;

import java.util.HexFormat;
import java.util.Optional;

import io.vertx.pgclient.PgException;

/**
 * Where durable messages are kept, and the SQL that stores, fetches and acknowledges them. A message is a row until its
 * method has handled it: acknowledged rows are deleted, so what the table holds is the backlog and the dead letters.
 *
 * @param schema the schema, or empty for the session's {@code search_path}
 * @param table the table name
 * @param function the name of the SQL function that stores a message and wakes the leader
 * @param wakeupChannel the channel the function notifies on, delivered by PostgreSQL at commit
 * @param wakeupPayload whether the function's wake-up carries a small message, for the leader to hand over unfetched
 * @param createTable whether missing objects are created
 * @param createTableProperty the setting that switches creation off, named in the error when something is missing
 * @param functionProperty the setting that names the function, named in the error when another table's has its name
 */
public record MessageTable(Optional<String> schema, String table, String function, String wakeupChannel,
        boolean wakeupPayload, boolean createTable, String createTableProperty, String functionProperty) {

    public static final String DEFAULT_TABLE = "quarkus_leader_message";
    public static final String DEFAULT_FUNCTION = "quarkus_leader_send";

    /** A payload of up to this many bytes rides in its wake-up, within {@code NOTIFY}'s 8000 bytes. */
    static final int WAKEUP_PAYLOAD_BYTES = 2000;

    /** Opens a wake-up that carries its message: a channel's name never starts with it in practice. */
    static final char WAKEUP_MESSAGE_START = '\u0001';

    /** A comment in the send function's body: the functions of earlier versions wake with the channel's name alone. */
    static final String WAKEUP_MESSAGE_MARK = "quarkus-leader: a small message rides in its wake-up";

    /** SQLSTATE invalid_text_representation: what {@link #ackOneSql(DurableMessage)} fails with, among others. */
    static final String NOT_PENDING = "22P02";

    /** The text whose cast fails in {@link #ackOneSql(DurableMessage)}: the server's message quotes it, in any language. */
    static final String NOT_PENDING_TEXT = "quarkus-leader: the message is no longer pending";

    public String qualifiedName() {
        return qualify(table);
    }

    public String qualifiedFunction() {
        return qualify(function);
    }

    private String qualify(String name) {
        return schema.map(s -> Channels.quote(s) + ".").orElse("") + Channels.quote(name);
    }

    /** The table, its two partial indexes and the send function; also shown to users who manage their schema. */
    public String ddl() {
        String t = qualifiedName();
        return "CREATE TABLE IF NOT EXISTS " + t + " (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                + " channel text NOT NULL, payload text NOT NULL, sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
                + " attempts integer NOT NULL DEFAULT 0, last_error text, dead_at timestamptz);\n"
                // the leader's fetch: pending messages of one channel in id order, dead letters out of the way
                + "CREATE INDEX IF NOT EXISTS " + Channels.quote(table + "_pending") + " ON " + t
                + " (channel, id) WHERE dead_at IS NULL;\n"
                + "CREATE INDEX IF NOT EXISTS " + Channels.quote(table + "_dead") + " ON " + t
                + " (channel, id) WHERE dead_at IS NOT NULL;\n"
                // not OR REPLACE: a function of this name that stores into another table is not taken over
                + functionDdl("CREATE FUNCTION");
    }

    /**
     * The send function: it stores the message and, at commit, wakes the leader. With {@link #wakeupPayload}, a small
     * message rides in its wake-up, which the leader reads with {@link WakeupMessage}; otherwise, and for a larger
     * one, the wake-up names the channel alone.
     */
    String functionDdl(String create) {
        // built from the row as stored: a trigger of the user's may have changed what the caller passed
        String wakeup = wakeupPayload
                ? "CASE WHEN octet_length(stored_payload) <= " + WAKEUP_PAYLOAD_BYTES + " THEN chr(1) || message_id"
                        + " || ' ' || (extract(epoch FROM stored) * 1000000)::bigint || ' '"
                        + " || octet_length(convert_to(stored_channel, 'UTF8')) || ' ' || stored_channel || stored_payload"
                        + " ELSE stored_channel END"
                : "stored_channel";
        return create + " " + qualifiedFunction() + "(channel text, payload text) RETURNS bigint"
                + " LANGUAGE plpgsql AS $quarkus_leader$\n"
                + "DECLARE message_id bigint; stored timestamptz; stored_channel text; stored_payload text;\n"
                + "BEGIN\n"
                // qualified: the parameters have the columns' names
                + "  INSERT INTO " + qualifiedName() + " AS m (channel, payload) VALUES ($1, $2)"
                + " RETURNING m.id, m.sent_at, m.channel, m.payload"
                + " INTO message_id, stored, stored_channel, stored_payload;\n"
                + (wakeupPayload ? "  -- " + WAKEUP_MESSAGE_MARK + "\n" : "")
                + "  PERFORM pg_notify(" + literal(wakeupChannel) + ", " + wakeup + ");\n"
                + "  RETURN message_id;\n"
                + "END\n"
                + "$quarkus_leader$;";
    }

    /**
     * Whether the table and the function exist ($1 the table, $2 the function's signature), the schema that
     * unqualified names are created in, and whether the function is one whose wake-up carries small messages.
     */
    String existsSql() {
        return "SELECT to_regclass($1) IS NOT NULL AND to_regprocedure($2) IS NOT NULL, current_schema(),"
                + " (SELECT position(" + literal(WAKEUP_MESSAGE_MARK) + " IN prosrc) > 0 FROM pg_proc"
                + " WHERE oid = to_regprocedure($2))";
    }

    /**
     * This table in {@code resolved}, the schema its unqualified names are created in: its DDL names it there, so that
     * the send function stores into this table whatever the {@code search_path} of a session that calls it.
     */
    MessageTable in(String resolved) {
        return schema.isPresent() ? this
                : new MessageTable(Optional.of(resolved), table, function, wakeupChannel, wakeupPayload, createTable,
                        createTableProperty, functionProperty);
    }

    /** The setting of {@link #wakeupPayload}, beside {@link #createTableProperty}. */
    String wakeupPayloadProperty() {
        return createTableProperty.replace("create-table", "wakeup-payload");
    }

    /** The function's signature as {@code to_regprocedure} reads it. */
    String functionSignature() {
        return qualifiedFunction() + "(text,text)";
    }

    /** Stores message $2 on channel $1 through the function, which also wakes the leader at commit. */
    String sendSql() {
        return "SELECT " + qualifiedFunction() + "($1, $2)";
    }

    /**
     * Stores messages $2[i] on channels $1[i] through the function, in one statement and so one transaction: each
     * message's position (from 1) and its id. Each small message's wake-up carries it; those of the larger ones of a
     * channel are one notification at commit.
     */
    String sendManySql() {
        return "SELECT m.n, " + qualifiedFunction() + "(m.channel, m.payload)"
                + " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS m(channel, payload, n)";
    }

    /**
     * The pending messages of channel $1, the lowest ids first: at most $2 of them, and, after the first, only while
     * the payloads before them stay under $4 bytes. A payload over $3 bytes (stored by SQL, past {@code send}'s check)
     * is not read: its size comes instead, and it becomes a dead letter. No high-water mark: handled messages are
     * deleted, so a message whose transaction committed after a higher id had been handled is simply the lowest pending
     * one at the next fetch. Served by the table's partial index (its name ends in {@code _pending}), in id order.
     */
    public String fetchSql() {
        return boundedInBytes("id, attempts, sent_at", "channel = $1 AND dead_at IS NULL", "$2", "$3", "$4");
    }

    /**
     * The digest of a stored message's channel and payload that {@link WakeupMessage#digest()} computes of a
     * wake-up's: only the message the wake-up came from matches it.
     */
    static String storedDigest() {
        return "sha256(convert_to(channel, 'UTF8') || decode('00', 'hex') || convert_to(payload, 'UTF8'))";
    }

    /**
     * Acknowledges message $1, handed over from its wake-up, if its stored row matches the wake-up's digest $2 (a
     * {@code bytea}): a made-up wake-up acknowledges nothing.
     */
    String ackHandedOverSql() {
        return "DELETE FROM " + qualifiedName() + " WHERE id = $1 AND dead_at IS NULL AND " + storedDigest() + " = $2";
    }

    /**
     * {@link #fetchSql()} with the server's {@code pg_is_in_recovery()} as the first column of every row, and one row
     * without a message (a null id) when none is pending: the leader's fetch and its primary check in one statement.
     */
    public String fetchOnPrimarySql() {
        return "SELECT pg_is_in_recovery() AS standby, pending.* FROM (SELECT 1) one LEFT JOIN LATERAL (" + fetchSql()
                + ") pending ON true";
    }

    /** Acknowledges the handled messages $1 (a {@code bigint[]}): their rows go, by primary key. */
    public String ackSql() {
        return "DELETE FROM " + qualifiedName() + " WHERE id = ANY($1)";
    }

    /**
     * Acknowledges {@code message} alone (a message from its wake-up only if the stored row matches it), inside the fenced
     * transaction of a method that takes the connection, with
     * its COMMIT: a literal, for a simple query. A message that is no longer pending fails it with
     * {@value #NOT_PENDING} and a message quoting {@value #NOT_PENDING_TEXT}, so that COMMIT does not run.
     */
    String ackOneSql(DurableMessage message) {
        String matches = message.digest() == null ? ""
                : " AND " + storedDigest() + " = decode('" + HexFormat.of().formatHex(message.digest()) + "', 'hex')";
        return "WITH acked AS (DELETE FROM " + qualifiedName() + " WHERE id = " + message.id() + " AND dead_at IS NULL"
                + matches + " RETURNING 1) SELECT (CASE WHEN count(*) = 1 THEN '1' ELSE '" + NOT_PENDING_TEXT + "' END)::int"
                + " FROM acked";
    }

    /**
     * Whether {@code error} is the failure of {@link #ackOneSql(DurableMessage)}: the code alone is too common (a bad cast of a
     * deferred trigger at COMMIT gives it too), the text it quotes is the extension's own.
     */
    static boolean notPending(PgException error) {
        return NOT_PENDING.equals(error.getSqlState()) && error.getErrorMessage() != null
                && error.getErrorMessage().contains(NOT_PENDING_TEXT);
    }

    /** How many messages of channel $1 are pending, counted up to $2 (an index-only count, bounded in cost). */
    String backlogSql() {
        return "SELECT count(*) FROM (SELECT 1 FROM " + qualifiedName()
                + " WHERE channel = $1 AND dead_at IS NULL LIMIT $2) pending";
    }

    /**
     * Records a failed attempt on message $1 with error $2; when $3, the message becomes a dead letter, out of the
     * flow (the fetch's partial index leaves it out). $4 is the digest of a message handed over from its wake-up
     * (null for a fetched one), which the row must match.
     */
    String failedAttemptSql() {
        return "UPDATE " + qualifiedName() + " SET attempts = attempts + 1, last_error = $2,"
        // a dead letter stays one: a deposed leader's late record must not put it back into the flow
                + " dead_at = CASE WHEN $3 THEN clock_timestamp() END WHERE id = $1 AND dead_at IS NULL"
                + " AND ($4::bytea IS NULL OR " + storedDigest() + " = $4)";
    }

    /**
     * The dead letters of channel $1 with ids above $2, the lowest first: at most $3 of them, and, after the first,
     * only while the payloads before them stay under $5 bytes; a payload over $4 bytes is left out (its size comes).
     */
    String deadLettersSql() {
        return boundedInBytes("id, channel, attempts, last_error",
                "channel = $1 AND id > $2 AND dead_at IS NOT NULL", "$3", "$4", "$5");
    }

    /**
     * The rows that match {@code where} in id order, at most {@code limit}, each with its payload (null when larger
     * than {@code maxPayload}) and size, stopping once the payloads before a row reach {@code budget} bytes: so at
     * least one row comes.
     */
    private String boundedInBytes(String columns, String where, String limit, String maxPayload, String budget) {
        // bigint: an integer parameter, which PostgreSQL would infer here, wraps a bound above 2 GB without an error
        String max = maxPayload + "::bigint";
        String readable = "CASE WHEN octet_length(payload) <= " + max + " THEN octet_length(payload) ELSE 0 END";
        return "SELECT " + columns + ", CASE WHEN size <= " + max + " THEN payload END AS payload, size FROM"
                + " (SELECT " + columns + ", payload, octet_length(payload) AS size, " + readable + " AS readable,"
                + " sum(" + readable + ") OVER (ORDER BY id) AS upto FROM " + qualifiedName() + " WHERE " + where
                + " ORDER BY id LIMIT " + limit + ") rows WHERE upto - readable < " + budget + " ORDER BY id";
    }

    /** How many dead letters of channel $1 have ids above $2, counted up to $3 on the index alone. */
    String deadCountSql() {
        return "SELECT count(*) FROM (SELECT 1 FROM " + qualifiedName()
                + " WHERE channel = $1 AND id > $2 AND dead_at IS NOT NULL LIMIT $3) dead";
    }

    /** Puts dead letter $1 back into the flow and wakes the leader at commit; a row when there was one. */
    String redeliverSql() {
        return "WITH back AS (UPDATE " + qualifiedName() + " SET dead_at = NULL, attempts = 0 WHERE id = $1"
                + " AND dead_at IS NOT NULL RETURNING channel) SELECT pg_notify(" + literal(wakeupChannel)
                + ", channel) FROM back";
    }

    private static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }
}
