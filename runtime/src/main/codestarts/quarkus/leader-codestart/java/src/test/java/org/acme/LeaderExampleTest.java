package org.acme;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.LeaderElection;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Needs PostgreSQL: Dev Services starts one in a container, or set quarkus.datasource.reactive.url.
 */
@QuarkusTest
class LeaderExampleTest {

    @Inject
    LeaderElection leaderElection;

    @Inject
    LeaderExample example;

    @Test
    void theLeaderReceivesGreetings() {
        await().atMost(Duration.ofSeconds(30)).until(leaderElection::isLeader);

        leaderElection.notifyAndAwait("greetings", new Greeting("test", "hello"));

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertEquals(List.of(new Greeting("test", "hello")), example.greetings()));
    }
}
