package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A datasource whose first URL is a streaming standby and whose second is the primary: the election leads on the
 * primary only, and notify, durable sends and fenced transactions succeed although the pool opens every other
 * connection to the standby, which refuses writes.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class ReadOnlyHostTest {

    // registered first: it stops after the application
    @RegisterExtension
    static final ReplicatedPostgres PG = ReplicatedPostgres.start("read-only-host");

    private static final int COUNT = 30;
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final QuarkusUnitTest TEST = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(Orders.class, Pings.class, ReplicatedPostgres.class,
                    TlsPostgres.class, TestPostgres.class))
            .overrideConfigKey("quarkus.datasource.db-kind", "postgresql")
            .overrideConfigKey("quarkus.datasource.devservices.enabled", "false")
            .overrideConfigKey("quarkus.http.test-port", "0")
            .overrideConfigKey("quarkus.datasource.reactive.url", PG.standbyUrl() + "," + PG.primaryUrl())
            // several connections at once, so that the pool opens some to each host
            .overrideConfigKey("quarkus.datasource.reactive.max-size", "6")
            .overrideConfigKey("quarkus.leader.lock", Long.toString(TestPostgres.uniqueLock()))
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            .overrideConfigKey("quarkus.leader.lease", "2s");

    @Inject
    LeaderElection election;

    @Test
    void writesReachThePrimaryAndTheElectionLeadsThereOnly() {
        await().atMost(WAIT).until(election::isLeader);
        long lock = election.lock(); // this class's statics run again in the application's class loader
        assertThat(TestPostgres.lockHolders(PG.primaryUrl(), lock)).as("holders on the primary").isEqualTo(1);
        assertThat(TestPostgres.lockHolders(PG.standbyUrl(), lock)).as("holders on the standby").isZero();
        PG.sql(PG.primary(), "CREATE TABLE IF NOT EXISTS read_only_host_fenced (n int)");

        Uni.join().all(IntStream.range(0, COUNT).mapToObj(i -> election.notify("pings", Integer.toString(i)))
                .toList()).andFailFast().await().atMost(WAIT);
        Uni.join().all(IntStream.range(0, COUNT).mapToObj(i -> election.send("orders", "o" + i))
                .toList()).andFailFast().await().atMost(WAIT);
        Uni.join().all(IntStream.range(0, COUNT).mapToObj(i -> election.fenced(conn -> conn
                .preparedQuery("INSERT INTO read_only_host_fenced VALUES ($1)").execute(Tuple.of(i)))).toList())
                .andFailFast().await().atMost(WAIT);

        await().atMost(WAIT).until(() -> Pings.received.size() == COUNT && Orders.handled.size() == COUNT);
        assertThat(PG.sql(PG.primary(), "SELECT count(*) FROM read_only_host_fenced").get(0).getLong(0))
                .isEqualTo(COUNT);
        assertThat(TestPostgres.lockHolders(PG.standbyUrl(), lock)).as("holders on the standby").isZero();
        // the pool did reach the standby, whose refused connections were ended
        assertThat(PG.log(PG.standby())).contains("terminating connection due to administrator command");
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
