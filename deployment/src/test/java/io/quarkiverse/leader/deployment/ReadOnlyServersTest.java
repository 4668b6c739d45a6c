package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgException;

/**
 * A datasource with several URLs, all of them read-only servers (here the standby, twice): a notification is tried on
 * one connection after another for up to a lease, then fails with the server's own refusal, as with one URL, not with
 * the retry's own "Retries exhausted".
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class ReadOnlyServersTest {

    // registered first: it stops after the application
    @RegisterExtension
    static final ReplicatedPostgres PG = ReplicatedPostgres.start("read-only-servers");

    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.on(PG.standbyUrl() + "," + PG.standbyUrl(),
            ReplicatedPostgres.class, TlsPostgres.class)
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            .overrideConfigKey("quarkus.leader.lease", "1s");

    @Inject
    LeaderElection election;

    @Test
    void aNotificationRefusedByEveryServerFailsWithTheServersError() {
        long ended = PG.endedConnections(PG.standby());
        assertThatThrownBy(() -> election.notify("anyone", "there?").await().atMost(WAIT))
                .isInstanceOf(PgException.class)
                .satisfies(e -> assertThat(((PgException) e).getSqlState()).isEqualTo("25006"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(PG.endedConnections(PG.standby()) - ended)
                .as("connections the standby refused and ended: retried, within the lease").isGreaterThan(1));
        assertThat(election.isLeader()).as("no primary to lead on").isFalse();
    }
}
