package io.quarkiverse.leader.runtime;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * The session that holds an election's lock in the election's own database, as PostgreSQL sees it. PostgreSQL shows
 * the state of a session only to its own role's members and to {@code pg_read_all_stats}: to others
 * {@code backendStart} is null.
 *
 * @param pid the backend process id of the session
 * @param applicationName its {@code application_name}: {@code leader:<instance-id>} for a default election session
 * @param backendStart when the session began
 */
record LockHolder(int pid, String applicationName, Instant backendStart) {

    /**
     * The granted hold of lock $1 in the current database, on {@code pg_locks l}: advisory locks are per database, while
     * {@code pg_locks} lists those of every database of the server.
     */
    static final String HELD_HERE = heldHere("$1::bigint");

    /** As {@link #HELD_HERE}, of the lock that the SQL expression {@code lock} gives. */
    static String heldHere(String lock) {
        return "l.granted AND " + ofLockHere(lock);
    }

    /** The rows of {@code pg_locks l} for the lock that the SQL expression {@code lock} gives, held or waited for. */
    static String ofLockHere(String lock) {
        return """
                l.locktype = 'advisory' AND l.objsubid = 1
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND l.classid::bigint = ((%1$s >> 32) & 4294967295)
                  AND l.objid::bigint = (%1$s & 4294967295)""".formatted(lock);
    }

    private static final String QUERY = """
            SELECT a.pid, a.application_name, a.backend_start
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE\s""" + HELD_HERE;

    static Future<Optional<LockHolder>> find(SqlClient client, long lock) {
        return client.preparedQuery(QUERY).execute(Tuple.of(lock)).map(rows -> {
            for (Row row : rows) {
                OffsetDateTime start = row.getOffsetDateTime("backend_start");
                return Optional.of(new LockHolder(row.getInteger("pid"), row.getString("application_name"),
                        start == null ? null : start.toInstant()));
            }
            return Optional.empty();
        });
    }
}
