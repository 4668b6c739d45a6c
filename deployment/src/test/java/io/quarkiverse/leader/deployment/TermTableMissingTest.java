package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;

import jakarta.inject.Inject;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.FencedException;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;

/**
 * With table creation switched off and the term table missing, no instance leads, readiness is DOWN and the log gives
 * the DDL to run.
 */
class TermTableMissingTest {

    /** Where the election logs a session that cannot be opened. */
    static final String ELECTION_LOG = "io.quarkiverse.leader.runtime.SessionOpener";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.fencing.create-table", "false")
            .overrideConfigKey("quarkus.leader.fencing.table", "missing_terms")
            .setLogRecordPredicate(r -> r.getLoggerName().equals(ELECTION_LOG))
            .assertLogRecords(records -> assertThat(records).anySatisfy(r -> assertThat(((ExtLogRecord) r)
                    .getFormattedMessage())
                    .contains("the term table \"missing_terms\" does not exist and quarkus.leader.fencing.create-table"
                            + " is false; create it with: CREATE TABLE IF NOT EXISTS \"missing_terms\" (lock_key bigint")));

    @Inject
    LeaderElection election;

    @Test
    void neverLeadsAndSaysWhatToCreate() {
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> !election.isLeader());
        assertThat(TestPostgres.lockHolders(election.lock())).isZero();
        assertThat(TestPostgres.sql("SELECT to_regclass('missing_terms') IS NULL").get(0).getBoolean(0)).isTrue();
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'Leader election' }.data.role", equalTo("disconnected"));
        assertThatThrownBy(() -> election.fenced(conn -> Uni.createFrom().item(1)).await().atMost(Duration.ofSeconds(5)))
                .isInstanceOf(FencedException.class).hasMessageContaining("does not lead");
    }
}
