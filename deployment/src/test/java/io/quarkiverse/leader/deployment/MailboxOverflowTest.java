package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.DropReason;
import io.quarkiverse.leader.runtime.LeaderMetrics;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.LogCapture;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * An ordered method that cannot keep up holds queue-size notifications besides the one it runs; beyond that its
 * mailbox drops the oldest waiting one or the arriving one, as configured, counts each drop, and says so in the log
 * at a bounded rate.
 */
class MailboxOverflowTest {

    /** Each channel's method blocks until its latch is released. */
    static final Map<String, CountDownLatch> RELEASES = Map.of("oldest", new CountDownLatch(1), "newest",
            new CountDownLatch(1));

    static final Pattern OVERFLOW_LINE = Pattern.compile("Dropped (\\d+) notification\\(s\\) for .*#(\\w+)\\(String\\)"
            + " on channel '(\\w+)': its mailbox was full \\(queue-size 3, overflow (drop-\\w+)\\)");

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Blocked.class, RecordingMetrics.class, LogCapture.class)
            .overrideConfigKey("quarkus.leader.delivery.queue-size", "3")
            .overrideConfigKey("quarkus.leader.delivery.overflow", "drop-oldest")
            .overrideConfigKey("quarkus.leader.delivery.channels.newest.overflow", "drop-newest");

    @Inject
    LeaderElection election;

    @Inject
    Blocked blocked;

    @Inject
    RecordingMetrics metrics;

    @BeforeEach
    void awaitLeadership() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
    }

    @AfterAll
    static void release() {
        RELEASES.values().forEach(CountDownLatch::countDown); // a test that failed early leaves no call blocked
    }

    @Test
    void dropOldestKeepsTheLatestNotifications() throws InterruptedException {
        burst("oldest");
        assertThat(blocked.handled("oldest")).containsExactly("1", "8", "9", "10", "end");
        assertThat(metrics.dropped("oldest", DropReason.OVERFLOW)).isEqualTo(6);
    }

    @Test
    void dropNewestKeepsTheFirstNotifications() throws InterruptedException {
        try (LogCapture log = LogCapture.warnings("io.quarkiverse.leader.runtime.NotificationDispatcher")) {
            burst("newest");
            assertThat(blocked.handled("newest")).containsExactly("1", "2", "3", "4", "end");
            assertThat(metrics.dropped("newest", DropReason.OVERFLOW)).isEqualTo(6);
            // the first drop is told at once, the five after it in one line once the interval is over: no line per drop
            await().atMost(Duration.ofSeconds(10)).until(() -> droppedInLog(log, "newest") == 6);
            assertThat(log.messages()).filteredOn(m -> m.contains("channel 'newest'")).hasSize(2)
                    .allMatch(m -> OVERFLOW_LINE.matcher(m).find() && m.contains("overflow drop-newest"));
        }
    }

    /**
     * Ten notifications while the method is blocked on the first: three wait, six are dropped. Then it is released,
     * and one more notification, handled after whatever the mailbox kept, marks the end.
     */
    private void burst(String channel) throws InterruptedException {
        // one transaction: PostgreSQL delivers the ten together, in this order, at commit
        TestPostgres.sql("SELECT pg_notify($1, i::text) FROM generate_series(1, 10) AS i", channel);
        assertThat(blocked.started(channel).await(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.received(channel) == 10);
        assertThat(metrics.depth(channel)).isEqualTo(3);
        RELEASES.get(channel).countDown();
        election.notifyAndAwait(channel, "end");
        await().atMost(Duration.ofSeconds(10)).until(() -> blocked.handled(channel).contains("end"));
        assertThat(metrics.depth(channel)).isZero();
    }

    private static int droppedInLog(LogCapture log, String channel) {
        int dropped = 0;
        for (String message : log.messages()) {
            Matcher line = OVERFLOW_LINE.matcher(message);
            if (line.find() && line.group(3).equals(channel)) {
                dropped += Integer.parseInt(line.group(1));
            }
        }
        return dropped;
    }

    @Singleton
    static class Blocked {

        final Map<String, List<String>> handled = new ConcurrentHashMap<>();
        final Map<String, CountDownLatch> starts = Map.of("oldest", new CountDownLatch(1), "newest", new CountDownLatch(1));

        @OnLeaderNotification("oldest")
        void oldest(String payload) throws InterruptedException {
            handle("oldest", payload);
        }

        @OnLeaderNotification("newest")
        void newest(String payload) throws InterruptedException {
            handle("newest", payload);
        }

        private void handle(String channel, String payload) throws InterruptedException {
            handled.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>()).add(payload);
            starts.get(channel).countDown();
            RELEASES.get(channel).await(20, TimeUnit.SECONDS);
        }

        List<String> handled(String channel) {
            return handled.getOrDefault(channel, List.of());
        }

        CountDownLatch started(String channel) {
            return starts.get(channel);
        }
    }

    @Singleton
    static class RecordingMetrics implements LeaderMetrics {

        final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> dropped = new ConcurrentHashMap<>();
        final Map<String, IntSupplier> depths = new ConcurrentHashMap<>();

        @Override
        public void received(String election, String channel) {
            received.computeIfAbsent(channel, c -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void dropped(String election, String channel, String method, DropReason reason, int count) {
            dropped.computeIfAbsent(channel + "/" + reason, c -> new AtomicInteger()).addAndGet(count);
        }

        @Override
        public void mailbox(String election, String channel, String method, IntSupplier depth) {
            depths.put(channel, depth);
        }

        int received(String channel) {
            return received.getOrDefault(channel, new AtomicInteger()).get();
        }

        int dropped(String channel, DropReason reason) {
            return dropped.getOrDefault(channel + "/" + reason, new AtomicInteger()).get();
        }

        int depth(String channel) {
            return depths.get(channel).getAsInt();
        }
    }
}
