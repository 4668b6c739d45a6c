package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.Optional;

import io.vertx.pgclient.PgException;

/**
 * The table that keeps the current term of each lock: one row per lock, updated by each new leader while it holds the
 * lock, and held {@code FOR SHARE} by fenced transactions so that a new term cannot begin while one of them runs.
 *
 * @param schema the schema, or empty for the session's {@code search_path}
 * @param table the table name
 * @param createTable whether the election creates the table when it is missing
 * @param idleTimeout how long a fenced transaction may sit idle before PostgreSQL ends it
 * @param createTableProperty the setting that switches creation off, named in the error when the table is missing
 */
public record TermTable(Optional<String> schema, String table, boolean createTable, Duration idleTimeout,
        String createTableProperty) {

    public static final String DEFAULT_TABLE = "quarkus_leader_term";

    /** The table name as SQL, each part quoted. */
    public String qualifiedName() {
        return schema.map(s -> Channels.quote(s) + ".").orElse("") + Channels.quote(table);
    }

    /** The DDL that creates the table; also shown to users who manage their schema themselves. */
    public String ddl() {
        return "CREATE TABLE IF NOT EXISTS " + qualifiedName() + " (lock_key bigint PRIMARY KEY, term bigint NOT NULL,"
                + " instance_id text NOT NULL, since timestamptz NOT NULL)";
    }

    /**
     * Whether the server is a standby, whether it takes only read-only transactions, and whether the table exists: one
     * round trip when the session opens.
     */
    String sessionCheckSql() {
        return "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')::bool,"
                + " to_regclass($1) IS NOT NULL";
    }

    /** The WAL timeline the server writes on now (a primary only): a promotion moves a standby to a new one. */
    static final String TIMELINE = "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint";

    /**
     * The first term a server may issue on its current WAL timeline: {@code ((timeline - 1) << 32) + 1}. A promoted
     * standby runs on a higher timeline than its old primary, so its first term is greater than every term the old
     * primary issued, even those whose commits never reached the standby (asynchronous replication).
     */
    static final String TIMELINE_FIRST_TERM = "((" + TIMELINE + " - 1) << 32) + 1";

    /**
     * Begins the next term of {@code lock} for {@code instanceId}, as literals so that it can share one simple query with
     * LISTEN (the session sets {@code standard_conforming_strings}): one more than the last, and never below the first
     * term of the server's timeline. The row lock it takes waits for fenced transactions of the previous term;
     * {@code since} is read once that wait is over.
     */
    String nextTermSql(long lock, String instanceId) {
        return "INSERT INTO " + qualifiedName() + " AS t (lock_key, term, instance_id, since)"
                + " VALUES (" + lock + ", " + TIMELINE_FIRST_TERM + ", '" + instanceId.replace("'", "''")
                + "', clock_timestamp())"
                + " ON CONFLICT (lock_key) DO UPDATE"
                // excluded.term: the timeline's first term, from VALUES
                + " SET term = GREATEST(t.term + 1, excluded.term), instance_id = excluded.instance_id,"
                + " since = clock_timestamp()"
                + " RETURNING term";
    }

    /**
     * Begins a fenced transaction in one round trip: bounds its idle time, holds the term row of {@code lock} until it
     * ends, and reads the transaction's id and the server's timeline, by which the outcome of a COMMIT whose answer was
     * lost can be looked up.
     */
    String beginFencedSql(long lock) {
        return "BEGIN; SET LOCAL idle_in_transaction_session_timeout = '" + Math.max(1, idleTimeout.toMillis()) + "ms'; "
                + "SELECT term, txid_current(), " + TIMELINE + " FROM " + qualifiedName() + " WHERE lock_key = " + lock
                + " FOR SHARE";
    }

    /** SQLSTATE invalid_text_representation: what {@link #stillOursSql(long)} fails with, among others. */
    static final String NOT_OURS = "22P02";

    /** The text whose cast fails in {@link #stillOursSql(long)}: the server's message quotes it, in any language. */
    static final String NOT_OURS_TEXT = "quarkus-leader: not the fenced transaction";

    /**
     * Sent with COMMIT: fails when the transaction is not fenced transaction {@code transactionId} any more (its work
     * committed or rolled back by itself), with {@value #NOT_OURS} and a message that quotes {@value #NOT_OURS_TEXT},
     * and, like any statement, with {@code 25P02} in a transaction that a failed statement aborted, where COMMIT would
     * roll back without an error. Plain SQL, so that it needs neither a language nor a function of its own.
     */
    String stillOursSql(long transactionId) {
        return "SELECT (CASE WHEN txid_current_if_assigned() IS NOT DISTINCT FROM " + transactionId
                + " THEN '1' ELSE '" + NOT_OURS_TEXT + "' END)::int";
    }

    /**
     * Whether {@code error} is the failure of {@link #stillOursSql(long)}: the code alone is too common (a bad cast of
     * a deferred trigger at COMMIT gives it too), the text it quotes is the extension's own.
     */
    static boolean notOurs(PgException error) {
        return NOT_OURS.equals(error.getSqlState()) && error.getErrorMessage() != null
                && error.getErrorMessage().contains(NOT_OURS_TEXT);
    }

    /**
     * What became of transaction $1: committed, aborted, or in progress (the row lock gave it its id already); and the
     * server's timeline, for the id means that transaction on the timeline it began on only.
     */
    String transactionStatusSql() {
        return "SELECT txid_status($1), " + TIMELINE;
    }

    /** The current term of lock $1, who began it and when. */
    String currentTermSql() {
        return "SELECT term, instance_id, since FROM " + qualifiedName() + " WHERE lock_key = $1";
    }
}
