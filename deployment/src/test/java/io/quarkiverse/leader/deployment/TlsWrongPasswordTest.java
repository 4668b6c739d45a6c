package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A wrong password over TLS: the election says so at WARN, with the SQLSTATE and the settings to check, never leads,
 * and retries with the backoff of rejected attempts, as the server's own log counts them.
 */
class TlsWrongPasswordTest {

    private static final Logger LOG = Logger.getLogger(TlsWrongPasswordTest.class);
    /** What the server logs for each attempt. */
    static final String REJECTED = "password authentication failed for user \"" + TlsPostgres.USER + "\"";
    static final Duration REJECTED_MAX_DELAY = Duration.ofMillis(800);
    /** The shortest delay once at the cap: the jitter takes up to half of it off. */
    static final long FLOOR_MS = REJECTED_MAX_DELAY.toMillis() / 2;
    /** Attempts after which the delay is at its cap: 50 ms doubled four times is 800 ms. */
    static final int RAMPED_UP = 6;
    static final int MEASURED = 3;

    @RegisterExtension
    static final TlsPostgres PG = TlsPostgres.start("wrong-password", "DNS:localhost,IP:127.0.0.1");

    @RegisterExtension
    static final QuarkusUnitTest TEST = PG.verifyFull(LeaderUnitTest.create(TlsPostgres.class))
            // a follower's eviction check fails through the pool the same way: only the election's attempts count
            .overrideConfigKey("quarkus.leader.evict-hung-leader", "false")
            .overrideConfigKey("quarkus.datasource.username", TlsPostgres.USER)
            .overrideConfigKey("quarkus.datasource.password", "not-" + PG.password())
            .overrideConfigKey("quarkus.leader.reconnect-initial-delay", "50ms")
            .overrideConfigKey("quarkus.leader.reconnect-max-delay", "100ms")
            .overrideConfigKey("quarkus.leader.reconnect-rejected-max-delay", REJECTED_MAX_DELAY.toMillis() + "ms")
            .setLogRecordPredicate(r -> r.getLoggerName().equals(TlsHostnameMismatchTest.OPENER))
            .assertLogRecords(records -> assertThat(records)
                    .filteredOn(r -> r.getLevel().getName().startsWith("WARN"))
                    .singleElement().satisfies(r -> assertThat(((ExtLogRecord) r).getFormattedMessage())
                            .contains("cannot open its election session (" + REJECTED + " [SQLSTATE 28P01])")
                            .contains("check quarkus.datasource.username and quarkus.datasource.password")
                            .contains("retrying with backoff up to PT0.8S")));

    @Inject
    LeaderElection election;

    @Test
    void retriesWithTheBackoffOfRejectedAttempts() {
        await().atMost(Duration.ofSeconds(20)).failFast("the election leads", election::isLeader)
                .until(() -> PG.logged(REJECTED) >= RAMPED_UP);
        int before = PG.logged(REJECTED);
        long start = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).failFast("the election leads", election::isLeader)
                .until(() -> PG.logged(REJECTED) >= before + MEASURED);
        long windowMs = (System.nanoTime() - start) / 1_000_000;
        LOG.infof("%d rejected attempts in %d ms once at the cap", MEASURED, windowMs);
        // at reconnect-max-delay (100 ms) they would have come in about 300 ms
        assertThat(windowMs).as("%d attempts at a delay of at least %d ms each", MEASURED, FLOOR_MS)
                .isGreaterThanOrEqualTo((MEASURED - 1) * FLOOR_MS);
        assertThat(election.isLeader()).isFalse();
    }
}
