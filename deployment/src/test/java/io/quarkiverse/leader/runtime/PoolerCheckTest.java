package io.quarkiverse.leader.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.quarkiverse.leader.LeaderElection;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.PgBouncer;
import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;

/**
 * The pooler check against a real PgBouncer in each pool mode, with one server connection and with several: a session
 * passes, every pooled mode is refused, and a direct connection passes without a second connection. A leader's
 * heartbeat notices a session that moves to another backend later.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.PgBouncer#installed", disabledReason = PgBouncer.MISSING)
class PoolerCheckTest {

    private static final Duration BOUND = Duration.ofSeconds(1);
    private static final List<PgBouncer> BOUNCERS = List.of(PgBouncer.of("session", 1), PgBouncer.of("session", 3),
            PgBouncer.of("transaction", 1), PgBouncer.of("transaction", 3), PgBouncer.of("statement", 1),
            PgBouncer.of("statement", 3));

    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        BOUNCERS.forEach(PgBouncer::start);
    }

    @AfterAll
    static void stop() {
        BOUNCERS.forEach(PgBouncer::stop);
        if (vertx != null) {
            TestPostgres.await(vertx.close());
        }
    }

    @ParameterizedTest(name = "{0} mode, pool size {1}: pooled {2}")
    @CsvSource({ "session, 1, false", "session, 3, false", "transaction, 1, true", "transaction, 3, true",
            "statement, 1, true", "statement, 3, true" })
    void tellsASessionFromAPool(String mode, int poolSize, boolean pooled) {
        PgConnectOptions options = PgConnectOptions.fromUri(PgBouncer.of(mode, poolSize).url());
        for (int round = 0; round < 3; round++) { // the same verdict every time, not by luck of the pool
            PgConnection conn = TestPostgres.await(PgConnection.connect(vertx, options));
            try {
                int pid = TestPostgres.await(conn.query("SELECT pg_backend_pid()").execute()).iterator().next()
                        .getInteger(0);
                assertThat(conn.processId()).as("PgBouncer's own key").isNotEqualTo(pid);
                PoolerCheck check = new PoolerCheck(vertx, options, options(options));
                if (pooled) {
                    assertThatThrownBy(() -> TestPostgres.await(check.check(conn, pid)))
                            .hasRootCauseInstanceOf(PoolerCheck.PooledSession.class)
                            .hasMessageContaining("goes through a connection pooler in transaction or statement mode")
                            .hasMessageContaining("set quarkus.leader.datasource to a reactive datasource");
                } else {
                    TestPostgres.await(check.check(conn, pid));
                }
            } finally {
                TestPostgres.await(conn.close());
            }
        }
    }

    @Test
    void aDirectConnectionNeedsNoSecondConnection() {
        PgConnectOptions direct = PgConnectOptions.fromUri(TestPostgres.url());
        PgConnection conn = TestPostgres.await(PgConnection.connect(vertx, direct));
        try {
            int pid = TestPostgres.await(conn.query("SELECT pg_backend_pid()").execute()).iterator().next()
                    .getInteger(0);
            // a second connection would go nowhere: the check passes only if it opens none
            PgConnectOptions nowhere = new PgConnectOptions().setHost("127.0.0.1").setPort(1).setDatabase("none")
                    .setUser("none").setConnectTimeout(500);
            TestPostgres.await(new PoolerCheck(vertx, nowhere, options(nowhere)).check(conn, pid));
        } finally {
            TestPostgres.await(conn.close());
        }
    }

    @Test
    void aHeartbeatSeesTheSessionMoveToAnotherBackend() {
        PgConnectOptions options = PgConnectOptions.fromUri(PgBouncer.of("transaction", 3).url());
        PgConnection conn = TestPostgres.await(PgConnection.connect(vertx, options));
        PgConnection other = TestPostgres.await(PgConnection.connect(vertx, options));
        CompletableFuture<String> lost = new CompletableFuture<>();
        SessionAttempt leader = new SessionAttempt(vertx, conn, (attempt, reason) -> lost.complete(reason));
        try {
            int pid = TestPostgres.await(conn.query("SELECT pg_backend_pid()").execute()).iterator().next()
                    .getInteger(0);
            leader.firstBackendPid(pid); // as if a heartbeat had run there: the test needs to know when it has
            // the pooler gives the backend released last to the next transaction, and this one keeps it
            int held = TestPostgres.await(other.query("BEGIN; SELECT pg_backend_pid()").execute()).next().iterator()
                    .next().getInteger(0);
            assertThat(held).as("the backend the pooler hands out next").isEqualTo(pid);
            Lease lease = new Lease(Duration.ofSeconds(5));
            lease.confirm(System.nanoTime());
            new Heartbeat(options(options), lease, () -> true, (attempt, reason) -> lost.complete(reason))
                    .start(leader);
            assertThat(lost).succeedsWithin(Duration.ofSeconds(3)).asString()
                    .contains("its heartbeats ran on backend pid " + pid + ", then on pid")
                    .contains("goes through a connection pooler in transaction or statement mode");
        } finally {
            leader.end();
            TestPostgres.await(other.close());
            TestPostgres.await(conn.close());
        }
    }

    private static ElectionOptions options(PgConnectOptions connect) {
        return new ElectionOptions(connect, 1, "pooler-check", List.of(), AcquireStrategy.WAIT, Duration.ofSeconds(10),
                Duration.ofMillis(300), BOUND, Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(5),
                Duration.ZERO, null, SessionDatasource.withoutProvider(DataSourceUtil.DEFAULT_DATASOURCE_NAME),
                PoolerCheck.fix(LeaderElection.DEFAULT_NAME, Optional.empty()));
    }
}
