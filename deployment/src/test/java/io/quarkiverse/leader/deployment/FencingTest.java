package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.FencedException;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Fenced transactions commit in the leader's own term only; a new term cannot begin while one runs, and a hung one
 * holds it up no longer than the idle timeout.
 */
class FencingTest {

    private static final String INSTANCE = "fencing-test";
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(3);

    static {
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS fencing_test_writes (term bigint NOT NULL, marker text NOT NULL)");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.instance-id", INSTANCE)
            .overrideConfigKey("quarkus.leader.lease", "2s")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            .overrideConfigKey("quarkus.leader.fencing.idle-timeout", IDLE_TIMEOUT.toMillis() + "ms");

    @Inject
    LeaderElection election;

    @Test
    void commitsInTheLeadersTerm() {
        long term = leadingTerm();
        assertThat(election.fenced(conn -> write(conn, term, "committed")).await().atMost(Duration.ofSeconds(10)))
                .isEqualTo(term);
        assertThat(written("committed")).isEqualTo(1);

        // a failure of the work itself rolls back and is passed on as it is
        assertThatThrownBy(() -> election.fenced(conn -> write(conn, term, "work failed")
                .chain(() -> Uni.createFrom().failure(new IllegalStateException("the work failed"))))
                .await().atMost(Duration.ofSeconds(10)))
                .isExactlyInstanceOf(IllegalStateException.class);
        assertThat(written("work failed")).isZero();

        // a failed statement whose failure the work swallows aborts the transaction: nothing commits, and it says so
        assertThatThrownBy(() -> election.fenced(conn -> write(conn, term, "failure swallowed")
                .chain(() -> conn.query("SELECT 1 / 0").execute().onFailure().recoverWithNull())
                .replaceWith(term))
                .await().atMost(Duration.ofSeconds(10)))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("aborted it, but its work completed all the same: nothing was committed");
        assertThat(written("failure swallowed")).isZero();

        // a work that ends the transaction itself is told so; what it rolled back stays rolled back
        assertThatThrownBy(() -> election.fenced(conn -> write(conn, term, "rolled back by the work")
                .chain(() -> conn.query("ROLLBACK").execute())
                .replaceWith(term))
                .await().atMost(Duration.ofSeconds(10)))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ended the transaction itself");
        assertThat(written("rolled back by the work")).isZero();

        // nor may it begin one of its own
        assertThatThrownBy(() -> election.fenced(conn -> conn.begin().replaceWith(term))
                .await().atMost(Duration.ofSeconds(10)))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("must not begin one of its own");
    }

    @Test
    void cannotCommitOnceTheTermIsOver() {
        long term = leadingTerm();
        Uni<Long> stale = election.fenced(conn -> write(conn, term, "stale"));
        // what a new leader does first: begin the next term
        TestPostgres.sql("UPDATE quarkus_leader_term SET term = term + 1 WHERE lock_key = $1", election.lock());

        assertThatThrownBy(() -> stale.await().atMost(Duration.ofSeconds(10)))
                .isInstanceOf(FencedException.class)
                .hasMessageContaining("Term " + term + " of lock " + election.lock() + " is over");
        assertThat(written("stale")).isZero();

        TestPostgres.terminateElectionSessions(INSTANCE); // rejoin in a term of its own again
        await().atMost(Duration.ofSeconds(15)).until(() -> election.term().orElse(0) > term + 1);
        // the same Uni, subscribed again, runs in the term of the moment
        assertThat(stale.await().atMost(Duration.ofSeconds(10))).isEqualTo(term);
        assertThat(written("stale")).isEqualTo(1);
    }

    @Test
    void theNextTermWaitsForARunningFencedTransaction() throws Exception {
        long term = leadingTerm();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletionStage<Long> fenced = startHeldTransaction(term, "held", gate);

        // deposed while the transaction runs: the session comes back at once and takes the lock again, but its next
        // term cannot begin until the transaction holding the term row has ended
        TestPostgres.terminateElectionSessions(INSTANCE);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> !election.isLeader());
        assertThat(currentTerm()).isEqualTo(term);

        gate.complete(null);
        assertThatThrownBy(() -> fenced.toCompletableFuture().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause()
                .isInstanceOf(FencedException.class).hasMessageContaining("stopped leading");
        await().atMost(Duration.ofSeconds(10)).until(() -> election.term().orElse(0) == term + 1);
        assertThat(currentTerm()).isEqualTo(term + 1);
        assertThat(written("held")).isZero();
    }

    @Test
    void aHungFencedTransactionHoldsUpTheNextTermNoLongerThanTheIdleTimeout() throws Exception {
        long term = leadingTerm();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletionStage<Long> fenced = startHeldTransaction(term, "hung", gate);

        long deposed = System.nanoTime();
        TestPostgres.terminateElectionSessions(INSTANCE);
        // the transaction never goes on by itself: PostgreSQL ends it after the idle timeout, then the term begins
        await().atMost(IDLE_TIMEOUT.plusSeconds(5)).until(() -> election.term().orElse(0) == term + 1);
        assertThat(Duration.ofNanos(System.nanoTime() - deposed)).isGreaterThanOrEqualTo(IDLE_TIMEOUT.minusMillis(500));

        gate.complete(null); // the old transaction wakes up to a closed connection
        assertThatThrownBy(() -> fenced.toCompletableFuture().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause()
                .isInstanceOf(FencedException.class).hasMessageContaining("Term " + term);
        assertThat(written("hung")).isZero();
    }

    @Test
    void aCommitLostWithItsConnectionIsLookedUp() throws Exception {
        long term = leadingTerm();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletionStage<Long> fenced = election.fenced(conn -> write(conn, term, "lost commit")
                .chain(() -> Uni.createFrom().completionStage(gate))
                .replaceWith(term)).subscribeAsCompletionStage();
        awaitFencedTransactionIdle();

        // the transaction's session ends and the next term begins in the table while this instance still leads in its
        // own view: the work finishes, the check before COMMIT passes, and COMMIT meets a closed connection
        TestPostgres.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction'"
                + " AND datname = current_database() AND query LIKE 'INSERT INTO fencing_test_writes%'");
        TestPostgres.sql("UPDATE quarkus_leader_term SET term = term + 1 WHERE lock_key = $1", election.lock());
        gate.complete(null);

        // PostgreSQL tells by the transaction's id that it did not commit, and the term is over
        assertThatThrownBy(() -> fenced.toCompletableFuture().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause()
                .isInstanceOf(FencedException.class).hasMessageContaining("did not commit");
        assertThat(written("lost commit")).isZero();

        TestPostgres.terminateElectionSessions(INSTANCE); // rejoin in a term of its own again
        await().atMost(Duration.ofSeconds(15)).until(() -> election.term().orElse(0) > term + 1);
    }

    private long leadingTerm() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        long term = election.term().orElseThrow();
        assertThat(currentTerm()).isEqualTo(term);
        return term;
    }

    private long currentTerm() {
        return TestPostgres.sql("SELECT term FROM quarkus_leader_term WHERE lock_key = $1", election.lock()).get(0)
                .getLong(0);
    }

    // markers name the lock too: a server given by the environment keeps the rows of earlier runs
    private Uni<Long> write(SqlConnection conn, long term, String marker) {
        return conn.preparedQuery("INSERT INTO fencing_test_writes (term, marker) VALUES ($1, $2) RETURNING term")
                .execute(Tuple.of(term, marker + "@" + election.lock())).map(rows -> rows.iterator().next().getLong(0));
    }

    private long written(String marker) {
        return TestPostgres.sql("SELECT count(*) FROM fencing_test_writes WHERE marker = $1", marker + "@" + election.lock())
                .get(0).getLong(0);
    }

    /** A fenced transaction that writes, waits for {@code gate}, writes again; returns once it waits between the two. */
    private CompletionStage<Long> startHeldTransaction(long term, String marker, CompletableFuture<Void> gate) {
        CompletionStage<Long> fenced = election.fenced(conn -> write(conn, term, marker)
                .chain(() -> Uni.createFrom().completionStage(gate))
                .chain(() -> write(conn, term, marker))).subscribeAsCompletionStage();
        awaitFencedTransactionIdle();
        return fenced;
    }

    private static void awaitFencedTransactionIdle() {
        await().atMost(Duration.ofSeconds(10)).until(() -> TestPostgres.sql("SELECT count(*) FROM pg_stat_activity"
                + " WHERE state = 'idle in transaction' AND datname = current_database()"
                + " AND query LIKE 'INSERT INTO fencing_test_writes%'").get(0)
                .getLong(0) == 1);
    }
}
