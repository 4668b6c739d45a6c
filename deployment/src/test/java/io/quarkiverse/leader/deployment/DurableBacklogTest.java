package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgConnection;

/**
 * Messages sent while no instance leads wait in the table and are all handed over, in id order, once a leader
 * appears; then the table holds none of them.
 */
class DurableBacklogTest {

    static final String TABLE = "backlog_test_messages";
    private static final long LOCK = TestPostgres.uniqueLock();
    private static PgConnection holder;

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Backlog.class)
            .overrideConfigKey("quarkus.leader.lock", Long.toString(LOCK))
            .overrideConfigKey("quarkus.leader.evict-hung-leader", "false")
            .overrideConfigKey("quarkus.leader.poll", "200ms")
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "backlog_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "backlog_test_send")
            // another session holds the lock while the messages are sent: no instance of this application leads
            .setBeforeAllCustomizer(() -> {
                holder = TestPostgres.connect(TestPostgres.url(), "leader:holder-" + LOCK);
                TestPostgres.holdLock(holder, LOCK);
            })
            .setAfterAllCustomizer(() -> holder.close());

    @Inject
    LeaderElection election;

    @Inject
    Backlog backlog;

    @Test
    void messagesSentWithoutALeaderAreDeliveredOnceOneLeads() {
        List<String> sent = IntStream.range(0, 250).mapToObj(i -> "m" + i).toList(); // more than two batches
        sent.forEach(m -> election.sendAndAwait("backlog", m));
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(backlog.received).isEmpty());
        assertThat(election.isLeader()).isFalse();
        assertThat(pending()).isEqualTo(sent.size());

        // the holder's session ends (it was opened in the class loader that set the test up)
        assertThat(TestPostgres.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                "leader:holder-" + election.lock())).hasSize(1);
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(backlog.received).hasSize(sent.size()));
        assertThat(backlog.received).containsExactlyElementsOf(sent);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(pending()).isZero());
    }

    private static long pending() {
        return TestPostgres.sql("SELECT count(*) FROM " + TABLE + " WHERE channel = 'backlog'").get(0).getLong(0);
    }

    static class Backlog {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification(value = "backlog", durable = true)
        void onMessage(String payload) {
            received.add(payload);
        }
    }
}
