package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionOptions;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.StartingUpServer;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

/**
 * The reconnect backoff follows the cause. Each attempt that the server rejects (a database that does not exist, a role
 * at its connection limit) costs the server a backend process, and these back off up to
 * {@code reconnect-rejected-max-delay}; a refused connection and a server that is starting up keep the short
 * {@code reconnect-max-delay}, so that the instances are back soon after a restart. Four elections fail side by side,
 * over the same window, on the same machine.
 */
class ReconnectBackoffTest {

    private static final Logger LOG = Logger.getLogger(ReconnectBackoffTest.class);
    private static final String OPENER = "io.quarkiverse.leader.runtime.SessionOpener";

    private static final Duration MAX_DELAY = Duration.ofMillis(200);
    private static final Duration REJECTED_MAX_DELAY = Duration.ofSeconds(1);
    /** The shortest delay once at the rejected cap: the jitter takes up to half of it off. */
    private static final long REJECTED_FLOOR_MS = REJECTED_MAX_DELAY.toMillis() / 2;
    /** Failures after which every cause is at its cap: 50 ms doubled five times is past 1 s. */
    private static final int RAMPED_UP = 6;
    /** Failures of each fast election that make the window. */
    private static final int FAST_FAILURES = 15;
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest(StartingUpServer.class, Attempts.class)
            // each failed attempt after the first is logged at debug level, with its number
            .overrideConfigKey("quarkus.log.category.\"" + OPENER + "\".level", "DEBUG");

    @Inject
    Vertx vertx;

    @Test
    void rejectedAttemptsBackOffFurtherThanFailedConnections() throws IOException {
        PgConnectOptions server = PgConnectOptions.fromUri(TestPostgres.url());
        String role = TestPostgres.role("limited");
        TestPostgres.sql("ALTER ROLE " + role + " CONNECTION LIMIT 0");
        Attempts attempts = new Attempts();
        java.util.logging.Logger.getLogger(OPENER).addHandler(attempts);
        List<ElectionSession> elections = new ArrayList<>();
        try (StartingUpServer startingUp = new StartingUpServer()) {
            // 3D000 and 53300: the server answers, and says no
            elections.add(election("missing-database", new PgConnectOptions(server)
                    .setDatabase("leader_missing_" + Long.toHexString(TestPostgres.uniqueLock()))));
            elections.add(election("no-slot", new PgConnectOptions(server).setUser(role)));
            // nothing listens: the connection is refused
            elections.add(election("refused", new PgConnectOptions(server).setHost("127.0.0.1").setPort(closedPort())));
            // 57P03: the server answers that it is starting up
            elections.add(election("starting-up", new PgConnectOptions(server).setHost("127.0.0.1")
                    .setPort(startingUp.port())));
            for (ElectionSession election : elections) {
                TestPostgres.await(election.start());
            }

            await().atMost(WAIT).until(() -> attempts.everyOneFailed(RAMPED_UP, "missing-database", "no-slot",
                    "refused", "starting-up"));
            Map<String, Integer> before = Map.copyOf(attempts.failed);
            long start = System.nanoTime();
            await().atMost(WAIT).until(() -> attempts.of("refused") >= before.get("refused") + FAST_FAILURES
                    && attempts.of("starting-up") >= before.get("starting-up") + FAST_FAILURES);
            long windowMs = (System.nanoTime() - start) / 1_000_000;
            Map<String, Integer> after = Map.copyOf(attempts.failed);
            int missingDatabase = after.get("missing-database") - before.get("missing-database");
            int noSlot = after.get("no-slot") - before.get("no-slot");
            LOG.infof("Failed attempts in %d ms: refused %d, starting up %d, no database %d, no connection slot %d",
                    windowMs, after.get("refused") - before.get("refused"),
                    after.get("starting-up") - before.get("starting-up"), missingDatabase, noSlot);

            // attempts spaced by at least the floor of the rejected cap fit this many into the window
            long rejectedAtMost = windowMs / REJECTED_FLOOR_MS + 1;
            assertThat(missingDatabase).as("attempts on a database that does not exist in %d ms", windowMs)
                    .isPositive().isLessThanOrEqualTo((int) rejectedAtMost);
            assertThat(noSlot).as("attempts of a role at its connection limit in %d ms", windowMs)
                    .isPositive().isLessThanOrEqualTo((int) rejectedAtMost);
            // spaced by the rejected cap, the fast ones would have needed at least this long
            assertThat(windowMs).as("%d refused and %d starting-up attempts each", FAST_FAILURES, FAST_FAILURES)
                    .isLessThan(FAST_FAILURES * REJECTED_FLOOR_MS);
        } finally {
            for (ElectionSession election : elections) {
                TestPostgres.await(election.stop());
            }
            java.util.logging.Logger.getLogger(OPENER).removeHandler(attempts);
            TestPostgres.dropRole(role);
        }
    }

    private ElectionSession election(String instanceId, PgConnectOptions connect) {
        ElectionOptions defaults = TestElections.options(instanceId, TestPostgres.uniqueLock(), AcquireStrategy.WAIT,
                List.of());
        connect.addProperty("application_name", "leader:" + instanceId);
        return new ElectionSession(vertx, new ElectionOptions(connect, defaults.lock(), instanceId, List.of(),
                AcquireStrategy.WAIT, defaults.poll(), defaults.heartbeat(), defaults.lease(), Duration.ofMillis(50),
                MAX_DELAY, REJECTED_MAX_DELAY, defaults.observerTimeout(), defaults.terms(), defaults.datasource()),
                new RecordingListener());
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** The number of the latest failed attempt each election has logged. */
    static final class Attempts extends Handler {

        private static final Pattern ATTEMPT = Pattern
                .compile("Instance (\\S+): election session attempt (\\d+) failed");

        final Map<String, Integer> failed = new ConcurrentHashMap<>();

        int of(String instanceId) {
            return failed.getOrDefault(instanceId, 0);
        }

        boolean everyOneFailed(int times, String... instanceIds) {
            for (String instanceId : instanceIds) {
                if (of(instanceId) < times) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void publish(LogRecord record) {
            Matcher attempt = ATTEMPT.matcher(((ExtLogRecord) record).getFormattedMessage());
            if (attempt.find()) {
                failed.merge(attempt.group(1), Integer.parseInt(attempt.group(2)), Math::max);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
