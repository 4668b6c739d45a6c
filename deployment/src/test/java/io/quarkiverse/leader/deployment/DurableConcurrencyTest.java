package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * A durable method that is not ordered gets the messages of a batch side by side, but never more at once than its
 * channel's {@code max-concurrency}: a batch of ten must not become ten transactions against a pool of a few.
 */
class DurableConcurrencyTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Wide.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage("concurrency_test_messages", "concurrency_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "concurrency_test_send")
            .overrideConfigKey("quarkus.leader.delivery.channels.wide.max-concurrency", "2");

    @Inject
    LeaderElection election;

    @Inject
    Wide wide;

    @Inject
    Pool pool;

    @Test
    void aBatchRunsAtMostMaxConcurrencyCallsAtOnce() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        // one transaction: the ten commit at once, so one fetch hands them over as one batch
        pool.withTransaction(conn -> Multi.createFrom().range(0, 10)
                .onItem().transformToUniAndConcatenate(i -> election.send(conn, "wide", "m" + i))
                .collect().asList()).await().atMost(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(wide.handled).hasSize(10));
        assertThat(wide.mostAtOnce.get()).isEqualTo(2);
    }

    static class Wide {

        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        final List<String> handled = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "wide", durable = true, ordered = false)
        Uni<Void> onWide(String payload) {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            return Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(150))
                    .invoke(() -> handled.add(payload))
                    .onTermination().invoke(running::decrementAndGet);
        }
    }
}
