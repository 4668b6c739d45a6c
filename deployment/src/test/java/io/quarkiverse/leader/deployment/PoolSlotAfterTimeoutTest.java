package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.SendTimeoutException;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A send that times out while it waits for a pooled connection costs the pool nothing: the connection that comes after
 * the caller gave up goes back, and the next send gets it. The pool has one connection, which the test holds.
 */
class PoolSlotAfterTimeoutTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.datasource.reactive.max-size", "1")
            .overrideConfigKey("quarkus.leader.send-timeout", "300ms")
            // nothing else of the extension's takes the pool's one connection meanwhile
            .overrideConfigKey("quarkus.leader.evict-hung-leader", "false");

    @Inject
    LeaderElection election;

    @Inject
    Pool pool;

    @Test
    void aConnectionThatComesAfterTheSenderGaveUpGoesBackToThePool() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        for (int round = 0; round < 3; round++) {
            SqlConnection held = pool.getConnection().await().atMost(Duration.ofSeconds(10));
            try {
                assertThatThrownBy(() -> election.notify("slots", "while the pool is busy").await()
                        .atMost(Duration.ofSeconds(10))).isInstanceOf(SendTimeoutException.class);
            } finally {
                held.close().await().atMost(Duration.ofSeconds(10));
            }
            // the pool's one connection is lost for good should the timed-out send have kept it
            election.notify("slots", "once it is free").await().atMost(Duration.ofSeconds(10));
        }
    }
}
