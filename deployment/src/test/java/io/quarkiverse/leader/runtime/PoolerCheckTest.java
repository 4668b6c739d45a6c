package io.quarkiverse.leader.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.PgBouncer;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
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
    private static SessionConnections probes;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        probes = new SessionConnections(vertx.getOrCreateContext());
        BOUNCERS.forEach(PgBouncer::start);
    }

    @AfterAll
    static void stop() {
        BOUNCERS.forEach(PgBouncer::stop);
        if (vertx != null) {
            TestPostgres.await(probes.close());
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
                int pid = backendPid(conn);
                assertThat(conn.processId()).as("PgBouncer's own key").isNotEqualTo(pid);
                PoolerCheck check = new PoolerCheck(probes, options, options(options));
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
            int pid = backendPid(conn);
            // a second connection would go nowhere: the check passes only if it opens none
            PgConnectOptions nowhere = new PgConnectOptions().setHost("127.0.0.1").setPort(1).setDatabase("none")
                    .setUser("none").setConnectTimeout(500);
            TestPostgres.await(new PoolerCheck(probes, nowhere, options(nowhere)).check(conn, pid));
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
        SessionAttempt leader = null;
        try {
            int pid = backendPid(conn);
            leader = new SessionAttempt(vertx, new BackendSession(conn, pid), (attempt, reason) -> lost.complete(reason));
            // the pooler gives the backend released last to the next transaction, and this one keeps it
            int held = TestPostgres.await(other.query("BEGIN; SELECT pg_backend_pid()").execute()).next().iterator()
                    .next().getInteger(0);
            assertThat(held).as("the backend the pooler hands out next").isEqualTo(pid);
            Lease lease = new Lease(Duration.ofSeconds(5));
            lease.confirm(System.nanoTime());
            new Heartbeat(options(options), lease, () -> true, (attempt, reason) -> lost.complete(reason))
                    .start(leader);
            assertThat(lost).succeedsWithin(Duration.ofSeconds(3)).asString()
                    .contains("the session was checked on backend pid " + pid + ", its heartbeat ran on pid")
                    .contains("goes through a connection pooler in transaction or statement mode");
        } finally {
            if (leader != null) {
                leader.end();
            }
            TestPostgres.await(other.close());
            TestPostgres.await(conn.close());
        }
    }

    /** Behind a pooler whose second connection fails, the session is not trusted: the probe is what tells. */
    @Test
    void aSessionBehindAPoolerThatRefusesTheProbeIsNotTrusted() {
        PgConnectOptions options = PgConnectOptions.fromUri(PgBouncer.of("session", 3).url());
        PgConnection conn = TestPostgres.await(PgConnection.connect(vertx, options));
        try {
            int pid = backendPid(conn);
            PgConnectOptions nowhere = new PgConnectOptions().setHost("127.0.0.1").setPort(1).setDatabase("none")
                    .setUser("none").setConnectTimeout(500);
            assertThatThrownBy(() -> TestPostgres.await(new PoolerCheck(probes, nowhere, options(nowhere))
                    .check(conn, pid)))
                    .hasRootCauseInstanceOf(PoolerCheck.PooledSession.class)
                    .hasMessageContaining("the second connection that tells whether it keeps sessions could not be opened");
        } finally {
            TestPostgres.await(conn.close());
        }
    }

    /** A leader behind a pooler whose backend no longer holds the lock (another client released it) steps down. */
    @Test
    void aHeartbeatSeesTheLockGoneFromTheBackend() {
        PgConnectOptions options = PgConnectOptions.fromUri(PgBouncer.of("session", 3).url());
        PgConnection conn = TestPostgres.await(PgConnection.connect(vertx, options));
        CompletableFuture<String> lost = new CompletableFuture<>();
        SessionAttempt leader = null;
        try {
            long lock = TestPostgres.uniqueLock();
            int pid = backendPid(conn);
            leader = new SessionAttempt(vertx, new BackendSession(conn, pid), (attempt, reason) -> lost.complete(reason));
            TestPostgres.await(conn.query("SELECT pg_advisory_lock(" + lock + ")").execute());
            TestPostgres.await(conn.query("SELECT pg_advisory_unlock(" + lock + ")").execute());
            Lease lease = new Lease(Duration.ofSeconds(5));
            lease.confirm(System.nanoTime());
            new Heartbeat(options(options, lock, AcquireStrategy.WAIT), lease, () -> true,
                    (attempt, reason) -> lost.complete(reason)).start(leader);
            assertThat(lost).succeedsWithin(Duration.ofSeconds(3)).asString()
                    .contains("its backend (pid " + pid + ") no longer holds the lock");
        } finally {
            if (leader != null) {
                leader.end();
            }
            TestPostgres.await(conn.close());
        }
    }

    /**
     * The guard that leads a proxied session's term statement: it passes only on the session's backend holding the
     * lock, and when it fails nothing after it in the same simple query runs.
     */
    @Test
    void theGuardLetsNothingAfterItRunElsewhere() {
        long lock = TestPostgres.uniqueLock();
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS own_backend_guard_test (lock_key bigint)");
        PgConnection conn = TestPostgres.await(PgConnection.connect(vertx, PgConnectOptions.fromUri(TestPostgres.url())));
        try {
            int pid = backendPid(conn);
            String insert = "; INSERT INTO own_backend_guard_test VALUES (" + lock + ")";
            assertThatThrownBy(() -> TestPostgres.await(conn.query(OwnBackend.guardSql(lock, pid) + insert).execute()))
                    .as("the lock not held").hasMessageContaining(OwnBackend.NOT_OWN_TEXT);
            TestPostgres.await(conn.query("SELECT pg_advisory_lock(" + lock + ")").execute());
            assertThatThrownBy(() -> TestPostgres.await(conn.query(OwnBackend.guardSql(lock, pid + 1) + insert)
                    .execute())).as("another backend").hasMessageContaining(OwnBackend.NOT_OWN_TEXT);
            assertThat(TestPostgres.sql("SELECT count(*) FROM own_backend_guard_test WHERE lock_key = $1", lock)
                    .get(0).getLong(0)).isZero();
            TestPostgres.await(conn.query(OwnBackend.guardSql(lock, pid) + insert).execute());
            assertThat(TestPostgres.sql("SELECT count(*) FROM own_backend_guard_test WHERE lock_key = $1", lock)
                    .get(0).getLong(0)).isOne();
        } finally {
            TestPostgres.await(conn.close());
        }
    }

    /**
     * Two elections' sessions that a transaction-mode pooler with one server connection puts on the same backend, as
     * if both had passed the check by chance: a session advisory lock is re-entrant, so without the lock statement's
     * own check both would lead.
     */
    @ParameterizedTest(name = "acquire {0}, looking for a hung leader {1}")
    @CsvSource({ "WAIT, false", "POLL, false", "WAIT, true", "POLL, true" })
    void twoSessionsOnOneBackendNeverBothTakeTheLock(AcquireStrategy acquire, boolean look) {
        // as the docs configure a datasource behind a transaction-mode pooler
        PgConnectOptions options = PgConnectOptions.fromUri(PgBouncer.of("transaction", 1).url()).setUseLayer7Proxy(true);
        long lock = TestPostgres.uniqueLock();
        ElectionOptions election = options(options, lock, acquire);
        TestPostgres.sql(election.terms().ddl());
        PgConnection first = TestPostgres.await(PgConnection.connect(vertx, options));
        PgConnection second = TestPostgres.await(PgConnection.connect(vertx, options));
        List<SessionAttempt> attempts = new ArrayList<>();
        try {
            int pid = backendPid(first);
            assertThat(backendPid(second)).as("one server connection: one backend for both").isEqualTo(pid);
            CompletableFuture<Long> firstLeads = new CompletableFuture<>();
            CompletableFuture<String> firstLost = new CompletableFuture<>();
            attempts.add(acquire(election, look, new BackendSession(first, pid), firstLeads, firstLost));
            assertThat(CompletableFuture.anyOf(firstLeads, firstLost)).succeedsWithin(Duration.ofSeconds(5));
            assertThat(firstLost).isNotDone();
            assertThat(firstLeads).isDone();

            CompletableFuture<Long> secondLeads = new CompletableFuture<>();
            CompletableFuture<String> secondLost = new CompletableFuture<>();
            attempts.add(acquire(election, look, new BackendSession(second, pid), secondLeads, secondLost));
            assertThat(secondLost).succeedsWithin(Duration.ofSeconds(5)).asString()
                    .contains("its backend (pid " + pid + ") held the election's lock already, for another client")
                    .contains("Connect the election to PostgreSQL directly");
            assertThat(secondLeads).isNotDone();
            assertThat(firstLost).isNotDone();
        } finally {
            attempts.forEach(SessionAttempt::end);
            TestPostgres.await(second.close());
            TestPostgres.await(first.close());
        }
    }

    /** A lock statement that a pooler runs on another backend than the session was checked on takes no lock. */
    @ParameterizedTest(name = "looking for a hung leader {0}")
    @ValueSource(booleans = { false, true })
    void aLockStatementOnAnotherBackendTakesNoLock(boolean look) {
        PgConnectOptions options = PgConnectOptions.fromUri(PgBouncer.of("transaction", 3).url()).setUseLayer7Proxy(true);
        long lock = TestPostgres.uniqueLock();
        ElectionOptions election = options(options, lock, AcquireStrategy.POLL);
        PgConnection conn = TestPostgres.await(PgConnection.connect(vertx, options));
        SessionAttempt attempt = null;
        try {
            int pid = backendPid(conn);
            CompletableFuture<Long> leads = new CompletableFuture<>();
            CompletableFuture<String> lost = new CompletableFuture<>();
            // as if the session had been checked on a backend that the pooler has given to someone else since
            int elsewhere = pid + 1_000_000;
            attempt = acquire(election, look, new BackendSession(conn, elsewhere), leads, lost);
            assertThat(lost).succeedsWithin(Duration.ofSeconds(5)).asString()
                    .contains("the session was checked on backend pid " + elsewhere + ", its lock statement ran on pid");
            assertThat(TestPostgres.lockHolders(lock)).as("sessions holding the lock on the server").isZero();
            assertThat(leads).isNotDone();
        } finally {
            if (attempt != null) {
                attempt.end();
            }
            TestPostgres.await(conn.close());
        }
    }

    /** Takes the lock on {@code session}, the lock statement looking for a hung leader if {@code look}. */
    private static SessionAttempt acquire(ElectionOptions election, boolean look, BackendSession session,
            CompletableFuture<Long> leads, CompletableFuture<String> lost) {
        SessionAttempt attempt = new SessionAttempt(vertx, session, (a, reason) -> lost.complete(reason));
        HungLeaderEviction eviction = look ? new HungLeaderEviction(() -> {
            throw new IllegalStateException("no statement through a pool here");
        }, election, "quarkus.leader.evict-hung-leader") : null;
        LockAcquisition acquisition = new LockAcquisition(election, new Lease(Duration.ofSeconds(5)), eviction, a -> {
        }, (holder, term, confirmedAt) -> leads.complete(term), (a, reason) -> lost.complete(reason));
        vertx.runOnContext(v -> acquisition.acquire(attempt));
        return attempt;
    }

    private static int backendPid(PgConnection conn) {
        return TestPostgres.await(conn.query("SELECT pg_backend_pid()").execute()).iterator().next().getInteger(0);
    }

    private static ElectionOptions options(PgConnectOptions connect) {
        return options(connect, 1, AcquireStrategy.WAIT);
    }

    private static ElectionOptions options(PgConnectOptions connect, long lock, AcquireStrategy acquire) {
        TermTable terms = new TermTable(Optional.empty(), "pooler_check_term", true, Duration.ofSeconds(5),
                "quarkus.leader.term-table.create");
        return new ElectionOptions(connect, lock, "pooler-check", List.of(), acquire, Duration.ofSeconds(10),
                Duration.ofMillis(300), BOUND, Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(5),
                Duration.ZERO, terms, SessionDatasource.withoutProvider(DataSourceUtil.DEFAULT_DATASOURCE_NAME),
                PoolerCheck.fix(LeaderElection.DEFAULT_NAME, Optional.empty()));
    }
}
