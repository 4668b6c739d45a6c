package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * A durable call that never completes counts as a failed attempt once it has taken {@code call-timeout}, so that it
 * cannot hold its channel for as long as the instance leads; and what a batch has handled is acknowledged before a
 * failed message's backoff, so that a departure during the retries does not hand it over again.
 */
class DurableStuckCallTest {

    static final String TABLE = "stuck_test_messages";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Methods.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "stuck_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "stuck_test_send")
            .overrideConfigKey("quarkus.leader.durable.call-timeout", "300ms")
            // long enough that the batch is still under way when the handled message's row is checked
            .overrideConfigKey("quarkus.leader.durable.retry-initial-delay", "20s")
            .overrideConfigKey("quarkus.leader.durable.retry-max-delay", "20s")
            .overrideConfigKey("quarkus.leader.durable.max-attempts", "2");

    @Inject
    LeaderElection election;

    @Inject
    Methods methods;

    @Inject
    Pool pool;

    @Test
    void aCallThatNeverCompletesIsAFailedAttempt() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        election.sendAndAwait("stuck", "never");
        election.sendAndAwait("stuck", "after");
        // the first call never completes: after call-timeout it is a failed attempt, the second is a dead letter,
        // and the channel goes on (without the timeout, "after" would wait as long as this instance leads)
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(methods.stuck).containsExactly("never", "never", "after"));
        assertThat(election.deadLetters("stuck").await().atMost(Duration.ofSeconds(5)))
                .singleElement().satisfies(letter -> assertThat(letter.lastError()).contains("call-timeout"));
    }

    @Test
    void whatTheBatchHandledIsAcknowledgedBeforeARetry() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        // one transaction: both commit at once, so one fetch hands them over as one batch
        pool.withTransaction(conn -> election.send(conn, "prefix", "fine").chain(() -> election.send(conn, "prefix", "bad")))
                .await().atMost(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(methods.prefix).containsExactly("fine", "bad"));
        // "bad" now waits 20 s for its retry: "fine" must be gone well before
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(rows("fine")).isZero());
        assertThat(rows("bad")).isOne();
    }

    private static long rows(String payload) {
        return TestPostgres.sql("SELECT count(*) FROM " + TABLE + " WHERE payload = $1", payload).get(0).getLong(0);
    }

    static class Methods {

        final List<String> stuck = new CopyOnWriteArrayList<>();
        final List<String> prefix = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "stuck", durable = true)
        Uni<Void> onStuck(String payload) {
            stuck.add(payload);
            return payload.equals("never") ? Uni.createFrom().nothing() : Uni.createFrom().voidItem();
        }

        @OnLeaderNotification(value = "prefix", durable = true)
        void onPrefix(String payload) {
            prefix.add(payload);
            if (payload.equals("bad")) {
                throw new IllegalStateException("bad payload");
            }
        }
    }
}
