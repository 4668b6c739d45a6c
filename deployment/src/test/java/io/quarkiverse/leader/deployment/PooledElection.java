package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;

import org.jboss.logmanager.ExtLogRecord;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.PgBouncer;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * An application whose datasource goes through a PgBouncer in transaction or statement mode, as the docs say to set
 * one up, with the election on that datasource: it must never lead.
 */
final class PooledElection {

    /** Where the election logs a session that cannot be opened. */
    static final String ELECTION_LOG = "io.quarkiverse.leader.runtime.SessionOpener";

    private PooledElection() {
    }

    static QuarkusUnitTest create(PgBouncer bouncer) {
        return behind(bouncer, LeaderUnitTest.create(PgBouncer.class, PooledElection.class))
                .overrideConfigKey("quarkus.datasource.reactive.postgresql.use-layer7-proxy", "true")
                .overrideConfigKey("quarkus.datasource.reactive.cache-prepared-statements", "false")
                .setLogRecordPredicate(r -> r.getLoggerName().equals(ELECTION_LOG))
                .assertLogRecords(records -> assertThat(records).anySatisfy(r -> assertThat(((ExtLogRecord) r)
                        .getFormattedMessage())
                        .contains("will not lead: its connection goes through a connection pooler in transaction or"
                                + " statement mode (such as PgBouncer)")
                        .contains("Connect the election to PostgreSQL directly: set quarkus.leader.datasource to a"
                                + " reactive datasource whose reactive.url names the PostgreSQL server")
                        .contains("quarkus.datasource.reactive.postgresql.use-layer7-proxy=true")));
    }

    /** The application's default datasource through {@code bouncer}, which runs while the application does. */
    static QuarkusUnitTest behind(PgBouncer bouncer, QuarkusUnitTest test) {
        return test.overrideConfigKey("quarkus.datasource.reactive.url", bouncer.url())
                .setBeforeAllCustomizer(bouncer::start)
                .setAfterAllCustomizer(bouncer::stop);
    }

    /** Never leads, takes no lock on the server, and readiness says the election has no session. */
    static void assertRefused(LeaderElection election) {
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> !election.isLeader() && TestPostgres.lockHolders(election.lock()) == 0);
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'Leader election' }.data.role", equalTo("disconnected"));
    }
}
