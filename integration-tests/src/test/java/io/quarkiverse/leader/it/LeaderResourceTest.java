package io.quarkiverse.leader.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.emptyString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

@QuarkusTest
@WithTestResource(PostgresResource.class)
class LeaderResourceTest {

    @BeforeEach
    void awaitLeadership() {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> given().get("/leader").then().extract().<Boolean> path("leader"));
    }

    @Test
    void reportsLeadershipAndInstance() {
        given().get("/leader").then().statusCode(200)
                .body("leader", equalTo(true))
                .body("instance", not(emptyString()));
        given().get("/leader/history").then().statusCode(200)
                .body("[0].leader", equalTo(true));
    }

    @Test
    void readinessIsUpAndShowsTheRoleAndTheLeader() {
        given().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name == 'Leader election' }.status", equalTo("UP"))
                .body("checks.find { it.name == 'Leader election' }.data.role", equalTo("leader"))
                .body("checks.find { it.name == 'Leader election' }.data.term",
                        equalTo(given().get("/leader").then().extract().path("term").toString()))
                .body("checks.find { it.name == 'Leader election' }.data.leader",
                        equalTo(given().get("/leader").then().extract().path("instance")));
    }

    @Test
    void currentLeaderAndFencedWritesCarryTheTerm() {
        String instance = given().get("/leader").then().extract().path("instance");
        int term = given().get("/leader").then().statusCode(200).body("term", greaterThan(0)).extract().path("term");
        given().get("/leader/current").then().statusCode(200)
                .body("instanceId", equalTo(instance))
                .body("term", equalTo(term))
                .body("since", not(emptyString()));
        given().post("/fenced").then().log().ifValidationFails().statusCode(200).body("term", equalTo(term));
    }

    @Test
    void theNamedElectionLeadsToo() {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().get("/leader/elections").then().statusCode(200)
                .body("name", contains("<default>", "reports"))
                .body("leader", contains(true, true)));
        Map<String, Object> report = Map.of("id", "r-1", "text", "for the reports election", "priority", 1);
        given().contentType(ContentType.JSON).body(report).post("/notify/reports").then().statusCode(204);
        await().untilAsserted(() -> given().get("/received/reports").then().statusCode(200)
                .body("", hasItem(report)));
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'Leader election' }.data.'reports.role'", equalTo("leader"));
    }

    @Test
    void eventRoundTripKeepsThePayloadIntact() {
        Map<String, Object> event = Map.of("id", "e-1", "text", "it's \"quoted\" \\ and 😀", "priority", 2);
        given().contentType(ContentType.JSON).body(event).post("/notify/events").then().statusCode(204);
        await().untilAsserted(() -> given().get("/received/events").then().statusCode(200)
                .body("", hasItem(event)));
    }

    @Test
    void metricsShowLeadershipAndHandledNotifications() {
        given().contentType(ContentType.JSON).body(Map.of("id", "m-1", "text", "metrics", "priority", 1))
                .post("/notify/events").then().statusCode(204);
        await().untilAsserted(() -> given().get("/q/metrics").then().statusCode(200)
                .body(containsString("leader_elected{election=\"<default>\"} 1.0"))
                .body(containsString("leader_elected{election=\"reports\"} 1.0"))
                .body(containsString("leader_transitions_total{election=\"<default>\",to=\"leader\"}"))
                .body(containsString("leader_notifications_received_total{channel=\"events\",election=\"<default>\"}"))
                .body(containsString("leader_notifications_handled_seconds_count{channel=\"events\",election=\"<default>\","
                        + "method=\"io.quarkiverse.leader.it.ReceivedNotifications#onEvent(io.quarkiverse.leader.it.Event)\","
                        + "outcome=\"success\"}"))
                .body(containsString("leader_notifications_queued{channel=\"events\",election=\"<default>\","
                        + "method=\"io.quarkiverse.leader.it.ReceivedNotifications#onEvent(io.quarkiverse.leader.it.Event)\"}"
                        + " 0.0")));
    }

    @Test
    void durableMessagesAreDeliveredAndMetered() {
        Map<String, Object> order = Map.of("id", "o-1", "text", "durable", "priority", 3);
        given().contentType(ContentType.JSON).body(order).post("/send/orders").then().statusCode(200);
        await().untilAsserted(() -> given().get("/received/orders").then().statusCode(200).body("", hasItem(order)));
        String method = "io.quarkiverse.leader.it.ReceivedNotifications#onOrder(com.fasterxml.jackson.databind.JsonNode)";
        await().untilAsserted(() -> given().get("/q/metrics").then().statusCode(200)
                .body(containsString("leader_durable_delivered_total{channel=\"orders\",election=\"<default>\",method=\""
                        + method + "\"}"))
                .body(containsString("leader_durable_handover_seconds_count{channel=\"orders\",election=\"<default>\","
                        + "method=\"" + method + "\"}"))
                .body(containsString("leader_durable_backlog{channel=\"orders\",election=\"<default>\"} 0.0")));
    }

    @Test
    void aPaymentTakesEffectOnceInTheLeadersTerm() {
        String id = "pay-" + Long.toHexString(TestPostgres.uniqueLock()); // payment_effect outlives the run
        long term = given().get("/leader").then().extract().jsonPath().getLong("term");
        try {
            given().contentType(ContentType.JSON).body(Map.of("id", id)).post("/send/payments").then().statusCode(200);
            await().atMost(Duration.ofSeconds(30)).until(() -> !effects(id).isEmpty());
            assertThat(effects(id)).containsExactly(term);
        } finally { // a server that outlives the run keeps no row of it
            TestPostgres.sql("DELETE FROM payment_effect WHERE payment_id = $1", id);
        }
    }

    @Test
    void aMessageSentInATransactionThatRollsBackIsNeverDelivered() {
        Map<String, Object> rolledBack = Map.of("id", "o-rolled-back", "text", "outbox", "priority", 1);
        long never = Long.parseLong(given().contentType(ContentType.JSON).body(rolledBack).queryParam("rollback", true)
                .post("/send/orders").then().statusCode(200).extract().asString());
        Map<String, Object> after = Map.of("id", "o-after-rollback", "text", "outbox", "priority", 1);
        long committed = Long.parseLong(given().contentType(ContentType.JSON).body(after).post("/send/orders").then()
                .statusCode(200).extract().asString());
        assertThat(committed).isGreaterThan(never);
        // an ordered channel is delivered in id order: had the lower id committed, it would have come first
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().get("/received/orders").then()
                .body("", hasItem(after)));
        given().get("/received/orders").then().body("", not(hasItem(rolledBack)));
    }

    private static List<Long> effects(String paymentId) {
        return TestPostgres.sql("SELECT term FROM payment_effect WHERE payment_id = $1", paymentId).stream()
                .map(row -> row.getLong(0)).toList();
    }

    @Test
    void rawChannelGetsTheJsonAsSent() {
        given().contentType(ContentType.JSON).body("{\"n\":[1,2,3],\"s\":\"x\"}").post("/notify/raw").then()
                .statusCode(204);
        await().untilAsserted(() -> given().get("/received/raw").then().statusCode(200)
                .body("s", hasItem("x")));
        given().get("/received/events").then().body("s", not(hasItem("x")));
    }

    @Test
    void oversizePayloadIsRejected() {
        String big = "{\"text\":\"" + "x".repeat(8000) + "\"}";
        given().contentType(ContentType.JSON).body(big).post("/notify/raw").then()
                .statusCode(400)
                .body(containsString("at most 7999"));
    }
}
