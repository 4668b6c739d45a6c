package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionOptions;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.runtime.TermTable;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Vertx;

/**
 * A failure that comes back with every session once it is open (here a term table of the wrong shape, so that no term
 * can begin) does not make the election reconnect in a tight loop: each session lost soon after it opened delays the
 * next one, doubling up to {@code reconnect-rejected-max-delay}.
 */
class ShortLivedSessionTest {

    private static final String SESSION = "io.quarkiverse.leader.runtime.ElectionSession";

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest();

    @Inject
    Vertx vertx;

    @Test
    void aTermThatCannotBeginIsRetriedWithBackoff() {
        String table = "leader_bad_term_" + Long.toHexString(TestPostgres.uniqueLock());
        TestPostgres.sql("CREATE TABLE " + table + " (lock_key bigint PRIMARY KEY)"); // no term column
        AtomicInteger lost = new AtomicInteger();
        Handler counter = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getMessage() != null && record.getMessage().contains("lost its election session")) {
                    lost.incrementAndGet();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger.getLogger(SESSION).addHandler(counter);
        ElectionOptions defaults = TestElections.options("bad-term", TestPostgres.uniqueLock(), AcquireStrategy.WAIT,
                List.of());
        // 50 ms doubling to 1 s: about 6 sessions in 3 s; without a delay, one every few milliseconds
        ElectionOptions options = new ElectionOptions(defaults.connectOptions(), defaults.lock(), "bad-term", List.of(),
                AcquireStrategy.WAIT, defaults.poll(), defaults.heartbeat(), defaults.lease(),
                defaults.reconnectInitialDelay(), defaults.reconnectMaxDelay(), Duration.ofSeconds(1),
                defaults.observerTimeout(), new TermTable(Optional.empty(), table, false, Duration.ofSeconds(1),
                        "quarkus.leader.fencing.create-table"),
                defaults.datasource());
        ElectionSession election = new ElectionSession(vertx, options, new RecordingListener());
        try {
            TestPostgres.await(election.start());
            await().atMost(Duration.ofSeconds(5)).until(() -> lost.get() >= 1);
            long from = System.nanoTime();
            int before = lost.get();
            // the window is measured, not slept: at 1 s at most between sessions, 3 s hold at most 3 + the ramp-up
            await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() -> true);
            long windowMs = (System.nanoTime() - from) / 1_000_000;
            int during = lost.get() - before;
            assertThat(during).as("sessions lost in %d ms", windowMs).isBetween(1, 12);
            assertThat(election.isLeader()).isFalse();
        } finally {
            TestPostgres.await(election.stop());
            java.util.logging.Logger.getLogger(SESSION).removeHandler(counter);
            TestPostgres.sql("DROP TABLE IF EXISTS " + table);
        }
    }
}
