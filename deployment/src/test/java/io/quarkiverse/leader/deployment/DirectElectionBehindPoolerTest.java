package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.PgBouncer;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The fix the refusal names: the application's datasource behind PgBouncer in transaction mode, the election on a
 * second datasource that reaches PostgreSQL directly. The election leads and hears notifications, and the
 * application's pool still works through the pooler.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.PgBouncer#installed", disabledReason = PgBouncer.MISSING)
class DirectElectionBehindPoolerTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = PooledElection.behind(PgBouncer.of("transaction", 2),
            LeaderUnitTest.create(PgBouncer.class, PooledElection.class, Received.class))
            .overrideConfigKey("quarkus.datasource.reactive.postgresql.use-layer7-proxy", "true")
            .overrideConfigKey("quarkus.datasource.reactive.cache-prepared-statements", "false")
            .overrideConfigKey("quarkus.datasource.\"election\".db-kind", "postgresql")
            .overrideConfigKey("quarkus.datasource.\"election\".devservices.enabled", "false")
            .overrideConfigKey("quarkus.datasource.\"election\".reactive.url", TestPostgres.url())
            .overrideConfigKey("quarkus.leader.datasource", "election");

    @Inject
    LeaderElection election;

    @Inject
    Received received;

    @Inject
    Pool pooled; // the application's default datasource, through the pooler

    @Test
    void leadsOnTheDirectDatasource() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        assertThat(TestPostgres.lockHolders(election.lock())).isEqualTo(1);
        election.notifyAndAwait("direct", "past the pooler");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(received.payloads)
                .containsExactly("past the pooler"));
        assertThat(pooled.preparedQuery("SELECT $1::int + 1").execute(Tuple.of(41))
                .await().atMost(Duration.ofSeconds(5)).iterator().next().getInteger(0)).isEqualTo(42);
    }

    static class Received {

        final List<String> payloads = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("direct")
        void on(String payload) {
            payloads.add(payload);
        }
    }
}
