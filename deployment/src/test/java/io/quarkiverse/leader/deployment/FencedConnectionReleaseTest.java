package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A fenced call gives its connection back however it ends: one cancelled while it waits for the pool returns the
 * connection that comes later, and one whose ROLLBACK gets no answer closes its connection instead of lending it out
 * again in the middle of a transaction.
 */
class FencedConnectionReleaseTest {

    private static final int POOL_SIZE = 2;

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.datasource.reactive.max-size", Integer.toString(POOL_SIZE))
            .overrideConfigKey("quarkus.leader.lease", "2s")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms");

    @Inject
    LeaderElection election;

    @Inject
    Pool pool;

    @Test
    void aCallCancelledWhileItWaitsForTheConnectionGivesItBack() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        List<SqlConnection> held = holdAll();
        CompletableFuture<Boolean> ran = new CompletableFuture<>();
        Cancellable call = election.fenced(conn -> Uni.createFrom().item(ran.complete(true)))
                .subscribe().with(ok -> {
                }, failure -> {
                });
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !ran.isDone()); // waiting

        call.cancel();
        held.forEach(conn -> conn.closeAndAwait()); // the waiting call is handed one of them now

        // each connection comes back: all of them can be held at once again
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .untilAsserted(() -> holdAll().forEach(SqlConnection::closeAndAwait));
        assertThat(ran).isNotDone();
    }

    @Test
    void aConnectionWhoseRollbackGetsNoAnswerIsClosed() throws Exception {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        CompletableFuture<Integer> pid = new CompletableFuture<>();
        Cancellable call = election.fenced(conn -> conn.query("SELECT pg_backend_pid()").execute()
                .invoke(rows -> pid.complete(rows.iterator().next().getInteger(0)))
                // ROLLBACK waits behind this, longer than the lease
                .chain(() -> conn.query("SELECT pg_sleep(6)").execute()))
                .subscribe().with(ok -> {
                }, failure -> {
                });
        int backend = pid.get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> TestPostgres.sql("SELECT count(*) FROM pg_stat_activity"
                + " WHERE pid = $1 AND query = 'SELECT pg_sleep(6)'", backend).get(0).getLong(0) == 1);

        call.cancel();

        // the session ends once its sleep does and it finds its client gone; given back, it would stay in the pool
        await().atMost(Duration.ofSeconds(15)).until(() -> !TestPostgres.alive(backend));
        // and the pool has room for as many connections as before
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .untilAsserted(() -> holdAll().forEach(SqlConnection::closeAndAwait));
    }

    /** Every connection of the pool at once; fails when one of them does not come within a second. */
    private List<SqlConnection> holdAll() {
        List<SqlConnection> held = new ArrayList<>();
        try {
            for (int i = 0; i < POOL_SIZE; i++) {
                held.add(pool.getConnection().await().atMost(Duration.ofSeconds(1)));
            }
            return held;
        } catch (RuntimeException e) {
            held.forEach(SqlConnection::closeAndAwait);
            throw e;
        }
    }
}
