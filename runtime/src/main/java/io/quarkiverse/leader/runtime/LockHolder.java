package io.quarkiverse.leader.runtime;

import java.time.Instant;
import java.util.Optional;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * The session that holds an election's lock, as PostgreSQL sees it.
 *
 * @param pid the backend process id of the session
 * @param applicationName its {@code application_name}: {@code leader:<instance-id>} for a default election session
 * @param idle whether it is idle, waiting for its client
 * @param silentMillis for how long the server has heard nothing from it
 * @param backendStart when the session began
 */
record LockHolder(int pid, String applicationName, boolean idle, long silentMillis, Instant backendStart) {

    private static final String QUERY = """
            SELECT a.pid, a.application_name, a.state = 'idle' AS idle, a.backend_start,
                   (extract(epoch FROM clock_timestamp() - a.state_change) * 1000)::bigint AS silent_ms
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.classid::bigint = (($1::bigint >> 32) & 4294967295)
              AND l.objid::bigint = ($1::bigint & 4294967295)
            """;

    static Future<Optional<LockHolder>> find(SqlClient client, long lock) {
        return client.preparedQuery(QUERY).execute(Tuple.of(lock)).map(rows -> {
            for (Row row : rows) {
                return Optional.of(new LockHolder(row.getInteger("pid"), row.getString("application_name"),
                        Boolean.TRUE.equals(row.getBoolean("idle")), row.getLong("silent_ms"),
                        row.getOffsetDateTime("backend_start").toInstant()));
            }
            return Optional.empty();
        });
    }
}
