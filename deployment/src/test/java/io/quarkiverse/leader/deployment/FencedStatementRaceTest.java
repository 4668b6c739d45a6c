package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A statement that another thread sends at the moment the fenced work completes either commits with the work or is
 * refused: it never reaches the connection behind COMMIT, where it would run in autocommit, outside the term.
 */
class FencedStatementRaceTest {

    private static final int ROUNDS = 200;

    static {
        // each row says in which transaction it was meant to run, and records the one it ran in
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS race_test_writes (marker text NOT NULL, fenced bigint NOT NULL,"
                + " ran bigint NOT NULL DEFAULT txid_current())");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create();

    @Inject
    LeaderElection election;

    private final ExecutorService threads = Executors.newFixedThreadPool(2);

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aStatementSentFromAnotherThreadAsTheWorkCompletesNeverRunsOutsideTheTransaction() throws Exception {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        String marker = "race@" + election.lock(); // a server given by the environment keeps the rows of earlier runs
        int refused = 0;
        for (int round = 0; round < ROUNDS; round++) {
            CompletableFuture<Boolean> sent = new CompletableFuture<>();
            int spin = round % 25;
            election.fenced(conn -> conn.query("SELECT txid_current()").execute()
                    .map(rows -> rows.iterator().next().getLong(0))
                    .chain(txid -> race(conn, marker, txid, spin, sent)))
                    .await().atMost(Duration.ofSeconds(10));
            if (!sent.get(10, TimeUnit.SECONDS)) {
                refused++;
            }
        }

        assertThat(TestPostgres.sql("SELECT count(*) FROM race_test_writes WHERE marker = $1 AND ran <> fenced",
                marker).get(0).getLong(0)).as("rows written outside their fenced transaction").isZero();
        long committed = TestPostgres.sql("SELECT count(*) FROM race_test_writes WHERE marker = $1 AND ran = fenced",
                marker).get(0).getLong(0);
        assertThat(committed + refused).as("each statement committed with its work or refused").isEqualTo(ROUNDS);
    }

    /**
     * Completes the work on one thread while another sends an INSERT, both let go at once; the sender spins a little
     * longer each round, so that some rounds send just as COMMIT goes out.
     */
    private Uni<Integer> race(SqlConnection conn, String marker, long txid, int spin, CompletableFuture<Boolean> sent) {
        return Uni.createFrom().emitter(work -> {
            CyclicBarrier start = new CyclicBarrier(2);
            threads.execute(() -> {
                meet(start);
                long until = System.nanoTime() + spin * 1_000L;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                Uni.createFrom().deferred(() -> conn.query("INSERT INTO race_test_writes (marker, fenced) VALUES ('"
                        + marker + "', " + txid + ")").execute())
                        .subscribe().with(rows -> sent.complete(true), failure -> {
                            if (failure instanceof IllegalStateException && failure.getMessage().contains("is over")) {
                                sent.complete(false);
                            } else {
                                sent.completeExceptionally(failure);
                            }
                        });
            });
            threads.execute(() -> {
                meet(start);
                work.complete(1);
            });
        });
    }

    private static void meet(CyclicBarrier barrier) {
        try {
            barrier.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
