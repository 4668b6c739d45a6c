package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Readiness is DOWN while the election cannot reach PostgreSQL, and the instance keeps running meanwhile.
 */
class HealthWithoutPostgresTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            // nothing listens on port 1: every attempt to open the election session fails
            .overrideConfigKey("quarkus.datasource.reactive.url", "postgresql://postgres@127.0.0.1:1/test");

    @Test
    void readinessIsDownWithoutASession() {
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'Leader election' }.status", equalTo("DOWN"))
                .body("checks.find { it.name == 'Leader election' }.data.role", equalTo("disconnected"));
    }
}
