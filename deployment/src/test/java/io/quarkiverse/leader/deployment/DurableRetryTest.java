package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A durable method that fails is called again with backoff, the channel waiting meanwhile; after max-attempts, or at
 * once for a payload it cannot read, the message is a dead letter, which redeliver() puts back.
 */
class DurableRetryTest {

    static final String TABLE = "retry_test_messages";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Flaky.class, Order.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "retry_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "retry_test_send")
            .overrideConfigKey("quarkus.leader.durable.retry-initial-delay", "50ms")
            .overrideConfigKey("quarkus.leader.durable.retry-max-delay", "200ms")
            .overrideConfigKey("quarkus.leader.durable.max-attempts", "3");

    @Inject
    LeaderElection election;

    @Inject
    Flaky flaky;

    @Test
    void aMethodFailingTwiceGetsTheMessageThreeTimesAndTheChannelWaits() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        flaky.failures.set(2);
        election.sendAndAwait("flaky", "first");
        election.sendAndAwait("flaky", "second");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(flaky.calls).containsExactly("first", "first", "first", "second"));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(rows("flaky")).isZero());
        assertThat(election.deadLetters("flaky").await().atMost(Duration.ofSeconds(5))).isEmpty();
    }

    @Test
    void afterMaxAttemptsADeadLetterThatRedeliverPutsBack() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        long id = election.sendAndAwait("broken", "doomed");
        long next = election.sendAndAwait("broken", "next");
        // the dead letter is out of the flow: the channel goes on
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(flaky.broken).containsExactly("doomed", "doomed", "doomed", "next"));
        List<DeadLetter> dead = election.deadLetters("broken").await().atMost(Duration.ofSeconds(5));
        assertThat(dead).singleElement().satisfies(letter -> {
            assertThat(letter.id()).isEqualTo(id).isLessThan(next);
            assertThat(letter.channel()).isEqualTo("broken");
            assertThat(letter.payload()).isEqualTo("doomed");
            assertThat(letter.attempts()).isEqualTo(3);
            assertThat(letter.lastError()).isEqualTo("java.lang.IllegalStateException: broken for doomed");
        });

        flaky.repaired.set(true);
        assertThat(election.redeliver(id).await().atMost(Duration.ofSeconds(5))).isTrue();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(flaky.broken).hasSize(5).last()
                .isEqualTo("doomed"));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(rows("broken")).isZero());
        assertThat(election.redeliver(id).await().atMost(Duration.ofSeconds(5))).isFalse();
    }

    @Test
    void anUnreadablePayloadIsADeadLetterAtOnce() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        long id = election.sendAndAwait("typed", "not json");
        election.sendAndAwait("typed", "{\"id\": 7}");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(flaky.orders).containsExactly(7));
        List<DeadLetter> dead = election.deadLetters("typed").await().atMost(Duration.ofSeconds(5));
        assertThat(dead).singleElement().satisfies(letter -> {
            assertThat(letter.id()).isEqualTo(id);
            assertThat(letter.attempts()).isEqualTo(1);
            assertThat(letter.lastError()).startsWith("com.fasterxml.jackson.core.JsonParseException");
        });
    }

    private static long rows(String channel) {
        return TestPostgres.sql("SELECT count(*) FROM " + TABLE + " WHERE channel = $1", channel).get(0).getLong(0);
    }

    public record Order(int id) {
    }

    static class Flaky {

        final AtomicInteger failures = new AtomicInteger();
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<String> broken = new CopyOnWriteArrayList<>();
        final AtomicBoolean repaired = new AtomicBoolean();
        final List<Integer> orders = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "flaky", durable = true)
        void onFlaky(String payload) {
            calls.add(payload);
            if (failures.getAndDecrement() > 0) {
                throw new IllegalStateException("flaky for " + payload);
            }
        }

        @OnLeaderNotification(value = "broken", durable = true)
        void onBroken(String payload) {
            broken.add(payload);
            if (payload.equals("doomed") && !repaired.get()) {
                throw new IllegalStateException("broken for " + payload);
            }
        }

        @OnLeaderNotification(value = "typed", durable = true)
        void onTyped(Order order) {
            orders.add(order.id());
        }
    }
}
