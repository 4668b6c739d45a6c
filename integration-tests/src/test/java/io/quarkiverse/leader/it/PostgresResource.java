package io.quarkiverse.leader.it;

import java.util.Map;

import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Points the sample application at the test PostgreSQL, on a lock of its own, with the sample's table.
 */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {

    /** The table of the sample's fenced writes ({@link FencedWrites}). */
    static final String FENCED_WRITES_DDL = "CREATE TABLE IF NOT EXISTS sample_fenced_writes (lock_key bigint NOT NULL,"
            + " term bigint NOT NULL, instance_id text NOT NULL, request text NOT NULL, step text NOT NULL,"
            + " at timestamptz NOT NULL)";

    @Override
    public Map<String, String> start() {
        TestPostgres.sql(FENCED_WRITES_DDL);
        long lock = TestPostgres.uniqueLock();
        return Map.of("quarkus.datasource.reactive.url", TestPostgres.url(),
                "quarkus.leader.lock", Long.toString(lock),
                "quarkus.leader.reports.lock", Long.toString(lock + 1));
    }

    @Override
    public void stop() {
        // the database outlives the application; TestPostgres stops it with the JVM
    }
}
