package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.MessageTable;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.sqlclient.ClosedConnectionException;

/**
 * A datasource whose first URL is a streaming standby and whose second is the primary: the election leads on the
 * primary only, and notify, durable sends and fenced transactions succeed although the pool's connection reaches the
 * standby, which refuses writes. Before each write the pool's connection to the primary is ended, so that its next
 * connection goes to the standby; the standby's log shows that it refused that very write.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class ReadOnlyHostTest {

    // registered first: it stops after the application
    @RegisterExtension
    static final ReplicatedPostgres PG = ReplicatedPostgres.start("read-only-host");

    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.on(PG.standbyUrl() + "," + PG.primaryUrl(), Orders.class,
            Pings.class, ReplicatedPostgres.class, TlsPostgres.class)
            // one connection at a time: each new one goes to the other host than the one before
            .overrideConfigKey("quarkus.datasource.reactive.max-size", "1")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            .overrideConfigKey("quarkus.leader.lease", "2s")
            // wake-ups only: no poll of the leader's takes the pool's connection between the writes
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "1h");

    @Inject
    LeaderElection election;

    @Test
    void writesReachThePrimaryAndTheElectionLeadsThereOnly() {
        await().atMost(WAIT).until(election::isLeader);
        long lock = election.lock(); // this class's statics run again in the application's class loader
        assertThat(TestPostgres.lockHolders(PG.primaryUrl(), lock)).as("holders on the primary").isEqualTo(1);
        assertThat(TestPostgres.lockHolders(PG.standbyUrl(), lock)).as("holders on the standby").isZero();
        PG.sql(PG.primary(), "CREATE TABLE IF NOT EXISTS read_only_host_fenced (n int PRIMARY KEY)");
        PG.awaitReplayed();

        refusedByTheStandbyFirst("pg_notify", () -> election.notify("pings", "one"));
        await().atMost(WAIT).until(() -> Pings.received.contains("one"));

        refusedByTheStandbyFirst(MessageTable.DEFAULT_FUNCTION, () -> election.send("orders", "first"));
        await().atMost(WAIT).until(() -> Orders.handled.contains("first"));

        refusedByTheStandbyFirst("FOR SHARE", () -> election.fenced(conn -> conn
                .preparedQuery("INSERT INTO read_only_host_fenced VALUES ($1) ON CONFLICT DO NOTHING")
                .execute(Tuple.of(1))));
        assertThat(PG.sql(PG.primary(), "SELECT count(*) FROM read_only_host_fenced").get(0).getLong(0))
                .isEqualTo(1);

        assertThat(TestPostgres.lockHolders(PG.standbyUrl(), lock)).as("holders on the standby").isZero();
    }

    /**
     * Runs {@code write} once the pool's next connection goes to the standby, and checks that the standby refused a
     * statement holding {@code statement} on the way. The pool may lend the ended connection to the primary once more
     * before it learns that it closed: the write is made again then.
     */
    private static void refusedByTheStandbyFirst(String statement, Supplier<Uni<?>> write) {
        long refused = PG.refusedStatements(PG.standby(), statement);
        PG.endPoolConnections(PG.primary());
        Uni.createFrom().deferred(write).onFailure(ClosedConnectionException.class).retry().atMost(3).await()
                .atMost(WAIT);
        await().atMost(WAIT).untilAsserted(() -> assertThat(PG.refusedStatements(PG.standby(), statement))
                .as("statements with %s that the standby refused, as its log says", statement)
                .isGreaterThan(refused));
    }

    @ApplicationScoped
    static class Pings {

        static final Set<String> received = ConcurrentHashMap.newKeySet();

        @OnLeaderNotification("pings")
        void onPing(String payload) {
            received.add(payload);
        }
    }

    @ApplicationScoped
    static class Orders {

        static final Set<String> handled = ConcurrentHashMap.newKeySet();

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
            handled.add(payload);
        }
    }
}
