package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgException;

/**
 * The datasource's one server becomes read-only while the election leads there ({@code default_transaction_read_only}
 * set and reloaded, as before a planned switchover): the leader steps down at its next heartbeat, a write (a durable
 * send; NOTIFY is allowed on a read-only primary) is refused after one more try rather than a storm of new connections,
 * and the election leads again once the server takes writes.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class ReadOnlyPrimaryTest {

    // registered first: it stops after the application
    @RegisterExtension
    static final ReplicatedPostgres PG = ReplicatedPostgres.start("read-only-primary");

    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.on(PG.primaryUrl(), Orders.class, ReplicatedPostgres.class,
            TlsPostgres.class)
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            .overrideConfigKey("quarkus.leader.lease", "2s")
            .overrideConfigKey("quarkus.leader.reconnect-rejected-max-delay", "1s");

    @Inject
    LeaderElection election;

    @Test
    void aLeaderWhoseServerBecomesReadOnlyStepsDownAndLeadsAgainWhenItTakesWrites() {
        await().atMost(WAIT).until(election::isLeader);
        try {
            readOnly(true);
            await().atMost(WAIT).until(() -> !election.isLeader());

            long ended = PG.endedConnections(PG.primary());
            assertThatThrownBy(() -> election.send("orders", "o1").await().atMost(WAIT))
                    .isInstanceOf(PgException.class).hasMessageContaining("read-only");
            assertThat(PG.endedConnections(PG.primary()) - ended)
                    .as("connections ended for one refused write: it and one retry")
                    .isEqualTo(2);
            assertThat(election.isLeader()).isFalse();
        } finally {
            readOnly(false);
        }
        await().atMost(WAIT).until(election::isLeader);
    }

    @ApplicationScoped
    static class Orders {

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
        }
    }

    private static void readOnly(boolean on) {
        PG.sql(PG.primary(), on ? "ALTER SYSTEM SET default_transaction_read_only = on"
                : "ALTER SYSTEM RESET default_transaction_read_only");
        PG.sql(PG.primary(), "SELECT pg_reload_conf()");
    }

}
