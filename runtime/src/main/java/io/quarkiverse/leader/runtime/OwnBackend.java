package io.quarkiverse.leader.runtime;

/**
 * The statements by which an election's session behind a pooler or proxy makes sure it runs on the backend it was
 * checked on, and that this backend holds the lock. Simple queries with the numbers as literals, so that no pooler can
 * split one across backends; on a direct session the election sends the plain statements instead.
 */
final class OwnBackend {

    /** The text whose cast fails in {@link #guardSql}: the server's error quotes it. */
    static final String NOT_OWN_TEXT = "quarkus-leader: not the backend of the session, or its lock is not held there";

    private OwnBackend() {
    }

    /**
     * Waits for the lock, on backend {@code pid} only and only if that backend does not hold it already: a pooler that
     * gave the backend to another election's session would otherwise grant the lock to both, since a session advisory
     * lock is re-entrant. The first column is null when the lock was not asked for, the second is the backend's pid.
     */
    static String waitSql(long lock, int pid) {
        return "SELECT CASE WHEN " + free(lock, pid) + " THEN pg_advisory_lock(" + lock + ") IS NOT NULL END,"
                + " pg_backend_pid()";
    }

    /** As {@link #waitSql}, waiting at most {@code timeoutMillis} ({@code lock_timeout} for this statement alone). */
    static String waitSql(long lock, int pid, long timeoutMillis) {
        return "SELECT CASE WHEN " + free(lock, pid) + " THEN pg_advisory_lock(CASE WHEN set_config('lock_timeout', '"
                + timeoutMillis + "ms', true) IS NOT NULL THEN (" + lock + ")::bigint END) IS NOT NULL END,"
                + " pg_backend_pid()";
    }

    /** As {@link #waitSql}, trying once. */
    static String trySql(long lock, int pid) {
        return "SELECT CASE WHEN " + free(lock, pid) + " THEN pg_try_advisory_lock(" + lock + ") END, pg_backend_pid()";
    }

    /**
     * Fails, before anything else of the simple query it leads runs, unless it runs on backend {@code pid} and that
     * backend holds the lock. The cast is outside the CASE, so that it is not folded when the statement is planned.
     */
    static String guardSql(long lock, int pid) {
        return "SELECT (CASE WHEN pg_backend_pid() = " + pid + " AND " + held(lock, pid) + " THEN '1' ELSE '"
                + NOT_OWN_TEXT + "' END)::int";
    }

    /**
     * As {@link Heartbeat#SQL}, and whether backend {@code pid} holds the lock: what a leader's heartbeat asks behind a
     * pooler.
     */
    static String heartbeatSql(long lock, int pid) {
        return Heartbeat.SQL + ", " + held(lock, pid);
    }

    /** Whether the statement runs on backend {@code pid} and that backend does not hold the lock. */
    static String free(long lock, int pid) {
        return "pg_backend_pid() = " + pid + " AND NOT " + held(lock, pid);
    }

    private static String held(long lock, int pid) {
        return "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = " + pid
                + " AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = " + lock + ")";
    }
}
