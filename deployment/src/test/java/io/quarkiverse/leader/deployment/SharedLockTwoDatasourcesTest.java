package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.logging.Level;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Two datasources of other names that reach the same host, port and database most likely share its advisory locks, so
 * two elections on the same lock through them would compete with each other; a pooler that routes by user may still
 * send them to two databases, so start-up warns, naming both elections and the database, and goes on.
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
            .setLogRecordPredicate(r -> r.getLevel().equals(Level.WARNING)
                    && r.getMessage().contains("through other datasources"))
            .assertLogRecords(records -> assertThat(records).singleElement()
                    .satisfies(r -> assertThat(String.format(r.getMessage().replaceAll("%[ds]", "%s"), r.getParameters()))
                            .contains("The elections default and 'jobs' both run on lock 4712 of database "
                                    + PgConnectOptions.fromUri(TestPostgres.url()).getDatabase() + " at ")
                            .contains("give them different quarkus.leader.\"jobs\".lock values")));

    @Inject
    LeaderElection defaultElection;

    @Inject
    @Election("jobs")
    LeaderElection jobs;

    @Test
    void startsAndWarns() {
        assertThat(defaultElection.name()).isEqualTo(LeaderElection.DEFAULT_NAME);
        assertThat(jobs.name()).isEqualTo("jobs");
    }
}
