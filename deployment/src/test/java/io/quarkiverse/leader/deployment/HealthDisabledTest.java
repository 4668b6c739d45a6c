package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

class HealthDisabledTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.health.enabled", "false");

    @Test
    void noLeaderCheck() {
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks.name", not(hasItem("Leader election")));
    }
}
