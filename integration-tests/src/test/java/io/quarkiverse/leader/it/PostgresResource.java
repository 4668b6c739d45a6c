package io.quarkiverse.leader.it;

import java.util.Map;

import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Points the sample application at the test PostgreSQL, on a lock of its own.
 */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Map.of("quarkus.datasource.reactive.url", TestPostgres.url(),
                "quarkus.leader.lock", Long.toString(TestPostgres.uniqueLock()));
    }

    @Override
    public void stop() {
        // the database outlives the application; TestPostgres stops it with the JVM
    }
}
