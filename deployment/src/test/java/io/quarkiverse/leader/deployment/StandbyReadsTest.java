package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.MessageTable;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.ClosedConnectionException;

/**
 * The reads of the election's state go to the primary even when the pool's connection reaches a standby that lags
 * behind it (its replay is paused before the durable storage is made): the storage check, the leader lookup, dead
 * letters and the durable fetch. Before each read the pool's connection to the primary is ended, so that its next
 * connection goes to the standby, the datasource's first URL; the standby's log shows that the read reached it.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class StandbyReadsTest {

    // registered first: it stops after the application
    @RegisterExtension
    static final ReplicatedPostgres PG = ReplicatedPostgres.start("standby-reads");

    private static final String TABLE = "standby_reads_message";
    private static final String FUNCTION = "standby_reads_send";
    private static final Duration WAIT = Duration.ofSeconds(30);

    static {
        // once, although this class is loaded again by the application's class loader
        if (System.getProperty("leader.test.standby-reads.prepared") == null) {
            PG.sql(PG.standby(), "SELECT pg_wal_replay_pause()");
            PG.script(PG.primary(), new MessageTable(Optional.empty(), TABLE, FUNCTION, "quarkus_leader_wakeup", false,
                    false, "", "").ddl());
            System.setProperty("leader.test.standby-reads.prepared", "true");
        }
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.on(PG.standbyUrl() + "," + PG.primaryUrl(), Orders.class,
            ReplicatedPostgres.class, TlsPostgres.class)
            // one connection at a time: each new one goes to the other host than the one before
            .overrideConfigKey("quarkus.datasource.reactive.max-size", "1")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            .overrideConfigKey("quarkus.leader.lease", "2s")
            // the storage exists on the primary only: the standby stopped replaying before it was made
            .overrideConfigKey("quarkus.leader.durable.create-table", "false")
            .overrideConfigKey("quarkus.leader.durable.table", TABLE)
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION)
            // wake-ups only: the fetch after a wake-up is then the pool's only use
            .overrideConfigKey("quarkus.leader.durable.poll-interval", "1h")
            .overrideConfigKey("quarkus.leader.durable.max-attempts", "1");

    @Inject
    LeaderElection election;

    @Test
    void readsOfTheElectionsStateAreAnsweredByThePrimary() {
        await().atMost(WAIT).until(election::isLeader);
        assertThat(PG.inRecovery(PG.standby())).isTrue();

        // the storage check (at start, and again before this send) found the storage the standby does not have
        election.send("orders", "first").await().atMost(WAIT);
        await().atMost(WAIT).until(() -> Orders.handled.contains("first"));

        long ended = nextPoolConnectionToTheStandby();
        Optional<LeaderInfo> leader = read(election.currentLeader());
        assertThat(leader).as("the leader, as the primary sees it (a standby shows no advisory locks)").isPresent();
        assertThat(leader.get().term()).isPositive();
        assertReachedTheStandby(ended);

        long poison = election.send("orders", "poison").await().atMost(WAIT);
        await().atMost(WAIT).until(() -> PG.sql(PG.primary(), "SELECT count(*) FROM " + TABLE
                + " WHERE id = $1 AND dead_at IS NOT NULL", poison).get(0).getLong(0) == 1);
        ended = nextPoolConnectionToTheStandby();
        assertThat(read(election.deadLetters("orders"))).extracting(DeadLetter::id).contains(poison);
        assertReachedTheStandby(ended);

        // sent behind the pool's back, so that the leader's fetch is the pool's next use
        ended = nextPoolConnectionToTheStandby();
        PG.sql(PG.primary(), "SELECT " + FUNCTION + "('orders', 'second')");
        await().atMost(WAIT).until(() -> Orders.handled.contains("second"));
        assertReachedTheStandby(ended);
    }

    /**
     * Ends the pool's connection to the primary, so that its next one goes to the standby; returns how many
     * connections the standby has ended so far.
     */
    private static long nextPoolConnectionToTheStandby() {
        long ended = PG.endedConnections(PG.standby());
        PG.endPoolConnections(PG.primary());
        return ended;
    }

    /** The pool may lend the ended connection once more before it learns that it closed: read again then. */
    private static <T> T read(Uni<T> read) {
        return read.onFailure(ClosedConnectionException.class).retry().atMost(3).await().atMost(WAIT);
    }

    private static void assertReachedTheStandby(long endedBefore) {
        await().atMost(WAIT).untilAsserted(() -> assertThat(PG.endedConnections(PG.standby()))
                .as("connections the standby ended, as its log says").isGreaterThan(endedBefore));
    }

    @ApplicationScoped
    static class Orders {

        static final Set<String> handled = ConcurrentHashMap.newKeySet();

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
            if (payload.equals("poison")) {
                throw new IllegalArgumentException("poison");
            }
            handled.add(payload);
        }
    }
}
