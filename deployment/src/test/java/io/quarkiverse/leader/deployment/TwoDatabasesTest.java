package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Advisory locks are per database, while pg_locks lists the locks of the whole server. Two elections on the same key,
 * one in the test database and one in another database of the same server, both lead, and each one's current leader,
 * readiness data included, is its own.
 */
class TwoDatabasesTest {

    private static final String OTHER = TestPostgres.database("other", null);
    private static final long LOCK = TestPostgres.uniqueLock();

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.lock", Long.toString(LOCK))
            .overrideConfigKey("quarkus.leader.instance-id", "in-test-db")
            .overrideConfigKey("quarkus.leader.\"other\".lock", Long.toString(LOCK))
            .overrideConfigKey("quarkus.leader.\"other\".instance-id", "in-other-db")
            .overrideConfigKey("quarkus.leader.\"other\".datasource", "other")
            .overrideConfigKey("quarkus.datasource.\"other\".db-kind", "postgresql")
            .overrideConfigKey("quarkus.datasource.\"other\".devservices.enabled", "false")
            .overrideConfigKey("quarkus.datasource.\"other\".reactive.url", TestPostgres.url(OTHER, TestPostgres.user()))
            .setAfterAllCustomizer(() -> TestPostgres.dropDatabase(OTHER));

    @Inject
    LeaderElection election;

    @Inject
    @Election("other")
    LeaderElection other;

    @Test
    void eachDatabaseHasItsOwnLeader() {
        await().atMost(Duration.ofSeconds(15)).until(() -> election.isLeader() && other.isLeader());
        assertThat(other.lock()).isEqualTo(election.lock());
        assertThat(TestPostgres.lockHolders(election.lock())).isEqualTo(1);
        assertThat(TestPostgres.lockHolders(TestPostgres.url(OTHER, TestPostgres.user()), other.lock())).isEqualTo(1);

        assertThat(election.currentLeader().await().atMost(Duration.ofSeconds(10)))
                .hasValueSatisfying(l -> assertThat(l.instanceId()).isEqualTo("in-test-db"));
        assertThat(other.currentLeader().await().atMost(Duration.ofSeconds(10)))
                .hasValueSatisfying(l -> assertThat(l.instanceId()).isEqualTo("in-other-db"));
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'Leader election' }.data.leader", equalTo("in-test-db"))
                .body("checks.find { it.name == 'Leader election' }.data.'other.leader'", equalTo("in-other-db"));
    }
}
