package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Two datasources of other names that reach the same database share its advisory locks: two elections on the same lock
 * through them would compete with each other, so start-up fails, naming both and the database.
 */
class SharedLockTwoDatasourcesTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.datasource.\"copy\".db-kind", "postgresql")
            .overrideConfigKey("quarkus.datasource.\"copy\".devservices.enabled", "false")
            .overrideConfigKey("quarkus.datasource.\"copy\".reactive.url", TestPostgres.url())
            .overrideConfigKey("quarkus.leader.lock", "4712")
            .overrideConfigKey("quarkus.leader.jobs.lock", "4712")
            .overrideConfigKey("quarkus.leader.jobs.datasource", "copy")
            .assertException(e -> assertThat(e)
                    .hasStackTraceContaining("The elections default and 'jobs' both run on lock 4712 of database "
                            + PgConnectOptions.fromUri(TestPostgres.url()).getDatabase() + " at ")
                    .hasStackTraceContaining("; give them different quarkus.leader.\"jobs\".lock values"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
