package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Readiness reads who leads at most once a heartbeat: probes in between share the last answer instead of querying
 * {@code pg_locks} each time, and the next probe after a heartbeat sees PostgreSQL as it is.
 */
class ReadinessViewTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.instance-id", "readiness-view")
            .overrideConfigKey("quarkus.leader.heartbeat", "8s") // the probes below fit well within one
            .overrideConfigKey("quarkus.leader.lease", "25s");

    @Inject
    LeaderElection election;

    @Test
    void probesShareOneReadPerHeartbeat() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        long term = election.term().getAsLong();
        leaderSaysTerm(term);
        // the term row moves on behind the probe's back: probes within the heartbeat still see the view they read
        TestPostgres.sql("UPDATE quarkus_leader_term SET term = term + 1000 WHERE lock_key = $1", election.lock());
        for (int i = 0; i < 5; i++) {
            leaderSaysTerm(term);
        }
        // once the view is a heartbeat old, the next probe reads PostgreSQL again
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> given()
                .get("/q/health/ready").then().body("checks.find { it.name == 'Leader election' }.data.term",
                        equalTo(Long.toString(term + 1000))));
    }

    private static void leaderSaysTerm(long term) {
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'Leader election' }.data.leader", equalTo("readiness-view"))
                .body("checks.find { it.name == 'Leader election' }.data.term", equalTo(Long.toString(term)));
    }
}
