package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * An exactly-once method whose message is acknowledged elsewhere while it runs (a late commit of an earlier call,
 * another instance): its acknowledgement, sent with COMMIT, finds no pending row, so its effect rolls back, and the
 * message is not handed over again, nor counted as a failure.
 */
class DurableAckedMeanwhileTest {

    static final String TABLE = "acked_meanwhile_test_messages";

    static {
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS acked_meanwhile_effects (payload text NOT NULL)");
        // a user's deferred check that fails at COMMIT with the code the acknowledgement's own failure once had
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS acked_meanwhile_checked (payload text NOT NULL)");
        TestPostgres.sql("CREATE OR REPLACE FUNCTION acked_meanwhile_check() RETURNS trigger LANGUAGE plpgsql AS"
                + " 'BEGIN PERFORM 1 / 0; RETURN NULL; END'");
        TestPostgres.sql("DROP TRIGGER IF EXISTS acked_meanwhile_check ON acked_meanwhile_checked");
        TestPostgres.sql("CREATE CONSTRAINT TRIGGER acked_meanwhile_check AFTER INSERT ON acked_meanwhile_checked"
                + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION acked_meanwhile_check()");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Effects.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "acked_meanwhile_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "acked_meanwhile_test_send")
            .overrideConfigKey("quarkus.leader.durable.retry-initial-delay", "50ms");

    @Inject
    LeaderElection election;

    @Inject
    Effects effects;

    @Test
    void anEffectWhoseMessageWasAcknowledgedMeanwhileRollsBack() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        String gone = "gone-" + election.lock();
        String next = "next-" + election.lock();

        election.sendAndAwait("acked", gone);
        election.sendAndAwait("acked", next);

        // ordered: once the next message is handled, the first one was settled
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(effects.calls).contains(next));
        assertThat(effects.calls).containsExactly(gone, next);
        assertThat(TestPostgres.sql("SELECT payload FROM acked_meanwhile_effects WHERE payload IN ($1, $2)", gone, next))
                .singleElement().satisfies(row -> assertThat(row.getString(0)).isEqualTo(next));
        assertThat(TestPostgres.sql("SELECT count(*) FROM " + TABLE).get(0).getLong(0)).isZero();
    }

    /** A failure of the method's own at COMMIT is a failed attempt, not a message acknowledged elsewhere. */
    @Test
    void aFailureOfTheWorkAtCommitIsAFailedAttempt() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        String checked = "checked-" + election.lock();

        long id = election.sendAndAwait("checked", checked);

        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(TestPostgres
                .sql("SELECT attempts FROM " + TABLE + " WHERE id = $1", id)).singleElement()
                .satisfies(row -> assertThat(row.getInteger(0)).isPositive()));
        assertThat(TestPostgres.sql("SELECT last_error FROM " + TABLE + " WHERE id = $1", id)).singleElement()
                .satisfies(row -> assertThat(row.getString(0)).contains("division by zero"));
    }

    static class Effects {

        final List<String> calls = new CopyOnWriteArrayList<>();

        @Inject
        Pool pool;

        @OnLeaderNotification(value = "acked", durable = true)
        Uni<Void> onMessage(String payload, SqlConnection conn) {
            calls.add(payload);
            Uni<Void> write = conn.preparedQuery("INSERT INTO acked_meanwhile_effects (payload) VALUES ($1)")
                    .execute(Tuple.of(payload)).replaceWithVoid();
            if (!payload.startsWith("gone-")) {
                return write;
            }
            // committed on a connection of its own, before this transaction's acknowledgement
            return write.chain(() -> pool.preparedQuery("DELETE FROM " + TABLE + " WHERE strpos(payload, $1) > 0")
                    .execute(Tuple.of(payload)).replaceWithVoid());
        }

        @OnLeaderNotification(value = "checked", durable = true)
        Uni<Void> onChecked(String payload, SqlConnection conn) {
            return conn.preparedQuery("INSERT INTO acked_meanwhile_checked (payload) VALUES ($1)")
                    .execute(Tuple.of(payload)).replaceWithVoid();
        }
    }
}
