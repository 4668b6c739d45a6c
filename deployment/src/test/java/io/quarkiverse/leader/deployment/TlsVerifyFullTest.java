package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.sqlclient.Row;

/**
 * A server that takes TLS connections only, with {@code ssl-mode=verify-full} and the CA as
 * {@code trust-certificate-pem}: the election's own session connects with the datasource's TLS settings, and the
 * server says so in {@code pg_stat_ssl}.
 */
class TlsVerifyFullTest {

    @RegisterExtension
    static final TlsPostgres PG = TlsPostgres.start("verify-full", "DNS:localhost,IP:127.0.0.1");

    @RegisterExtension
    static final QuarkusUnitTest TEST = PG.verifyFull(LeaderUnitTest.create(TlsPostgres.class))
            .overrideConfigKey("quarkus.datasource.username", TlsPostgres.USER)
            .overrideConfigKey("quarkus.datasource.password", PG.password());

    @Inject
    LeaderElection election;

    @Test
    void electionSessionLeadsOverTls() {
        assertThat(PG.plainConnectionRefused()).as("a connection without TLS").hasValueSatisfying(
                refused -> assertThat(refused).hasMessageContaining("no encryption"));

        await().atMost(Duration.ofSeconds(30)).until(election::isLeader);

        List<Row> sessions = PG.sql("SELECT s.ssl, s.version FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
                + " WHERE a.application_name = $1", "leader:" + election.instanceId());
        assertThat(sessions).as("the election's session in pg_stat_activity").hasSize(1);
        assertThat(sessions.get(0).getBoolean("ssl")).as("the election's session is encrypted").isTrue();
        // the pool, with the same settings, reaches the same server
        assertThat(election.currentLeader().await().atMost(Duration.ofSeconds(10))).isPresent();
    }
}
