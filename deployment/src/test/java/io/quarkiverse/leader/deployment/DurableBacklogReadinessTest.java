package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * The leader's readiness data show each durable channel's backlog, as counted at the periodic check: the messages not
 * acknowledged yet, the one being handled included.
 */
class DurableBacklogReadinessTest {

    static final String BACKLOG = "checks.find { it.name == 'Leader election' }.data.'durable.held.backlog'";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Held.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage("readiness_test_messages", "readiness_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "readiness_test_send")
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "100ms");

    @Inject
    LeaderElection election;

    @Inject
    Held held;

    @Test
    void theBacklogIsInTheReadinessData() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        for (int i = 0; i < 5; i++) {
            election.sendAndAwait("held", "m" + i);
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> given()
                .get("/q/health/ready").then().statusCode(200).body(BACKLOG, equalTo("5")));
        held.release.countDown();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> given()
                .get("/q/health/ready").then().statusCode(200).body(BACKLOG, equalTo("0")));
        assertThat(held.release.getCount()).isZero();
    }

    static class Held {

        final CountDownLatch release = new CountDownLatch(1);

        @OnLeaderNotification(value = "held", durable = true)
        void onMessage(String payload) throws InterruptedException {
            // on a worker thread; bounded, so a failed test does not hang the application's shutdown
            release.await(30, TimeUnit.SECONDS);
        }
    }
}
