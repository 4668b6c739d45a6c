package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A durable method that takes the connection writes its effect in the fenced transaction that acknowledges the
 * message: when the leader loses its term between the write and the commit, neither lands, and the next term's
 * leader handles the message again, so the effect exists exactly once.
 */
class DurableExactlyOnceTest {

    static final String INSTANCE = "exactly-once-test";
    static final String TABLE = "exactly_once_test_messages";

    static {
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS exactly_once_effects (payload text NOT NULL, call int NOT NULL)");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Effects.class)
            .overrideConfigKey("quarkus.leader.instance-id", INSTANCE)
            .overrideConfigKey("quarkus.leader.lease", "2s")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "exactly_once_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "exactly_once_test_send");

    @Inject
    LeaderElection election;

    @Inject
    Effects effects;

    @Test
    void aDeposedLeadersEffectIsRolledBackAndTheNextTermCommitsItOnce() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        long term = election.term().orElseThrow();
        String payload = "effect-" + election.lock(); // unique to this run

        long id = election.sendAndAwait("exactly", payload);

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(effects.terms).hasSize(2));
        assertThat(effects.terms.get(0)).isEqualTo(term);
        assertThat(effects.terms.get(1)).isGreaterThan(term);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(TestPostgres
                .sql("SELECT count(*) FROM " + TABLE + " WHERE id = $1", id).get(0).getLong(0)).isZero());
        // the first call's write was made, and rolled back with its term; the second one's committed
        assertThat(TestPostgres.sql("SELECT call FROM exactly_once_effects WHERE payload = $1", payload))
                .singleElement().satisfies(row -> assertThat(row.getInteger(0)).isEqualTo(2));
    }

    static class Effects {

        final List<Long> terms = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> steppedDown = new CompletableFuture<>();

        @Inject
        LeaderElection election;

        @OnLeaderNotification(value = "exactly", durable = true)
        Uni<Void> onMessage(String payload, SqlConnection conn) {
            terms.add(election.term().orElse(-1));
            int call = terms.size();
            Uni<Void> write = conn.preparedQuery("INSERT INTO exactly_once_effects (payload, call) VALUES ($1, $2)")
                    .execute(Tuple.of(payload, call)).replaceWithVoid();
            if (call > 1) {
                return write;
            }
            // written, not committed yet: the leader loses its session, and its term, before the commit
            return write.chain(() -> conn.preparedQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE application_name = $1 AND datname = current_database()").execute(Tuple.of("leader:" + INSTANCE)))
                    .chain(() -> Uni.createFrom().completionStage(steppedDown))
                    .ifNoItem().after(Duration.ofSeconds(10)).fail();
        }

        void onChange(@Observes LeadershipChanged change) {
            if (!change.leader()) {
                steppedDown.complete(null);
            }
        }
    }
}
