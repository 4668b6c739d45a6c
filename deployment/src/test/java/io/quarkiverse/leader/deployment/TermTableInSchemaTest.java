package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.sqlclient.Row;

/**
 * The term table is created where it is configured, its mixed-case name quoted, and holds the leader's term.
 */
class TermTableInSchemaTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            // once, before the application starts: a static initializer would run again in the application's class
            // loader, and could drop the table the election has just created
            .setBeforeAllCustomizer(() -> {
                TestPostgres.sql("CREATE SCHEMA IF NOT EXISTS leader_terms");
                TestPostgres.sql("DROP TABLE IF EXISTS leader_terms.\"Terms\"");
            })
            .overrideConfigKey("quarkus.leader.instance-id", "schema-test")
            .overrideConfigKey("quarkus.leader.fencing.schema", "leader_terms")
            .overrideConfigKey("quarkus.leader.fencing.table", "Terms");

    @Inject
    LeaderElection election;

    @Test
    void keepsTheTermInTheConfiguredTable() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        List<Row> rows = TestPostgres.sql("SELECT term, instance_id FROM leader_terms.\"Terms\" WHERE lock_key = $1",
                election.lock());
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).getLong("term")).isEqualTo(election.term().getAsLong()).isEqualTo(1);
        assertThat(rows.get(0).getString("instance_id")).isEqualTo("schema-test");
        assertThat(TestPostgres.sql("SELECT to_regclass('public.\"Terms\"') IS NULL").get(0).getBoolean(0)).isTrue();
    }
}
