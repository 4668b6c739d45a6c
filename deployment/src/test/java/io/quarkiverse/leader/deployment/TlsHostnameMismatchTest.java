package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * {@code ssl-mode=verify-full} against a server whose certificate, signed by a trusted CA, is for another host name:
 * the election never leads, says at WARN that the TLS handshake failed, why, and which settings to check, and keeps
 * trying (the certificate may be replaced) with the backoff of attempts the server side turns down.
 */
class TlsHostnameMismatchTest {

    static final String OPENER = "io.quarkiverse.leader.runtime.SessionOpener";
    /** What the server logs for each handshake the client gives up. */
    static final String HANDSHAKE_REFUSED = "could not accept SSL connection";

    @RegisterExtension
    static final TlsPostgres PG = TlsPostgres.start("other-host", "DNS:db.example.invalid");

    @RegisterExtension
    static final QuarkusUnitTest TEST = PG.verifyFull(LeaderUnitTest.create(TlsPostgres.class))
            // a follower's eviction check fails through the pool the same way: only the election's attempts count
            .overrideConfigKey("quarkus.leader.evict-hung-leader", "false")
            .overrideConfigKey("quarkus.datasource.username", TlsPostgres.USER)
            .overrideConfigKey("quarkus.datasource.password", PG.password())
            .overrideConfigKey("quarkus.leader.reconnect-initial-delay", "50ms")
            .overrideConfigKey("quarkus.leader.reconnect-rejected-max-delay", "1s")
            .setLogRecordPredicate(r -> r.getLoggerName().equals(OPENER))
            .assertLogRecords(records -> assertThat(records)
                    .filteredOn(r -> r.getLevel().getName().equals("WARN") || r.getLevel().getName().equals("WARNING"))
                    .singleElement().satisfies(r -> assertThat(((ExtLogRecord) r).getFormattedMessage())
                            .contains("cannot open its election session")
                            .contains("SSL handshake failed")
                            .contains("the TLS handshake with 127.0.0.1:" + PG.port() + " failed (ssl-mode"
                                    + " verify-full): the server's certificate is not signed by a trusted CA or not"
                                    + " issued for 127.0.0.1")
                            .contains("check quarkus.datasource.reactive.postgresql.ssl-mode")
                            .contains("quarkus.datasource.reactive.trust-certificate-pem")
                            .contains("quarkus.datasource.reactive.hostname-verification-algorithm")
                            .contains("retrying with backoff up to PT1S")));

    @Inject
    LeaderElection election;

    @Test
    void neverLeadsAndKeepsTrying() {
        await().atMost(Duration.ofSeconds(10)).until(() -> PG.logged(HANDSHAKE_REFUSED) >= 1);
        int seen = PG.logged(HANDSHAKE_REFUSED);
        await().atMost(Duration.ofSeconds(15)).failFast("the election leads", election::isLeader)
                .until(() -> PG.logged(HANDSHAKE_REFUSED) >= seen + 3);
        assertThat(election.isLeader()).isFalse();
        assertThat(PG.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                "leader:" + election.instanceId()).get(0).getLong(0)).as("election sessions on the server").isZero();
    }
}
