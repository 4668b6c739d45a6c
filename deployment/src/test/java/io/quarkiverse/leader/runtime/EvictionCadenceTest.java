package io.quarkiverse.leader.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

/**
 * How often a follower looks for a hung leader, the look being part of its own lock statement: the first in line (no
 * session with a lower backend pid waits for the lock) looks again just after the holder, silent from then on, would
 * have crossed the threshold; any other follower a threshold later still, so that it takes the watch over should the
 * first not end the holder (here the poll, an hour, is never the bound). The wait of each statement ends when its next
 * look is due, whatever the session's {@code lock_timeout}. The holder is a session of the test's own.
 */
class EvictionCadenceTest {

    private static final Duration POLL = Duration.ofHours(1);
    private static final Duration HEARTBEAT = Duration.ofMillis(500);
    private static final Duration LEASE = Duration.ofSeconds(20); // threshold 20.5 s: never crossed during the test

    private final long lock = TestPostgres.uniqueLock();
    private final List<PgConnection> sessions = new ArrayList<>();

    @AfterEach
    void stop() {
        sessions.forEach(PgConnection::close);
    }

    @Test
    void onlyTheFirstInLineLooksAsOftenAsTheHoldersSilenceNeeds() {
        PgConnection holder = session("leader:cadence-holder");
        TestPostgres.holdLock(holder, lock);
        List<PgConnection> followers = List.of(session("leader:cadence-a"), session("leader:cadence-b"),
                session("leader:cadence-c"));
        Map<PgConnection, Integer> pids = new HashMap<>();
        followers.forEach(follower -> pids.put(follower, pid(follower)));
        List<PgConnection> byPid = new ArrayList<>(followers);
        byPid.sort(Comparator.comparing(pids::get));
        PgConnection lowest = byPid.get(0);
        PgConnection middle = byPid.get(1);
        PgConnection highest = byPid.get(2);

        // the middle one waits first, plainly; the lowest looks with a waiter above it only, the highest behind both
        Future<RowSet<Row>> plain = middle.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(lock));
        awaitWaiting(pids.get(middle));
        Future<RowSet<Row>> first = eviction(LEASE).lock(true, lowest, false, 0);
        awaitWaiting(pids.get(lowest));
        Future<RowSet<Row>> behind = eviction(LEASE).lock(true, highest, false, 0);
        awaitWaiting(pids.get(highest));
        assertThat(TestPostgres.lockHolders(lock)).as("the holder, silent for less than the threshold").isEqualTo(1);

        // the lock passes down the line, so that each statement returns what its look found
        TestPostgres.await(holder.query("SELECT pg_advisory_unlock_all()").execute());
        TestPostgres.await(plain);
        TestPostgres.await(middle.query("SELECT pg_advisory_unlock_all()").execute());
        Row firstRow = TestPostgres.await(first).iterator().next();
        TestPostgres.await(lowest.query("SELECT pg_advisory_unlock_all()").execute());
        Row behindRow = TestPostgres.await(behind).iterator().next();

        long threshold = LEASE.plus(HEARTBEAT).toMillis();
        long firstInLine = firstRow.getLong("next_ms");
        assertThat(firstRow.getBoolean("locked")).isTrue();
        assertThat(firstInLine).as("next look of the first in line, ms").isGreaterThan(HEARTBEAT.toMillis())
                .isLessThanOrEqualTo(threshold + HEARTBEAT.toMillis() / 4);
        // a threshold after the first in line, at most a poll (here an hour) later
        assertThat(behindRow.getLong("next_ms")).as("next look of a follower behind it, ms").isGreaterThan(firstInLine)
                .isLessThanOrEqualTo(2 * threshold + HEARTBEAT.toMillis() / 4);
    }

    @Test
    void withNoHolderTheNextLookComesAfterAHeartbeat() {
        PgConnection follower = session("leader:cadence-alone");
        Row row = TestPostgres.await(eviction(LEASE).lock(false, follower, false, 0)).iterator()
                .next();
        assertThat(row.getBoolean("locked")).as("tried and taken").isTrue();
        assertThat(row.getLong("next_ms")).isEqualTo(HEARTBEAT.toMillis());
    }

    @Test
    void theWaitEndsWhenTheNextLookIsDueNotAfterThePoll() {
        // a holder that speaks every 100 ms is never overdue: the first in line looks again after about the threshold
        Duration lease = Duration.ofSeconds(1);
        PgConnection holder = session("leader:cadence-speaking");
        TestPostgres.holdLock(holder, lock);
        Vertx vertx = Vertx.vertx();
        try {
            vertx.setPeriodic(100, id -> holder.query("SELECT 1").execute());
            PgConnection follower = session("leader:cadence-waiting");
            TestPostgres.await(follower.query("SET lock_timeout = '" + POLL.toMillis() + "ms'").execute());
            Future<RowSet<Row>> look = eviction(lease).lock(true, follower, false, 0);
            await().atMost(Duration.ofSeconds(15)).until(look::isComplete);
            assertThat(look.cause()).as("the wait, ended by the statement's own lock_timeout")
                    .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.getSqlState()).isEqualTo("55P03"));
            assertThat(TestPostgres.lockHolders(lock)).as("the holder, never silent past the threshold").isEqualTo(1);
            Row timeout = TestPostgres.await(follower.query("SHOW lock_timeout").execute()).iterator().next();
            assertThat(timeout.getString(0)).as("the session's own lock_timeout, untouched").isEqualTo("1h");
        } finally {
            TestPostgres.await(vertx.close());
        }
    }

    @Test
    void aHolderOverdueThatCannotBeEndedIsLookedAtAThresholdLaterNotAtOnce() {
        // idle in a transaction: silent past the threshold, but not idle, so never ended
        Duration lease = Duration.ofSeconds(1);
        long threshold = lease.plus(HEARTBEAT).toMillis();
        PgConnection holder = session("leader:cadence-in-transaction");
        int pid = TestPostgres.holdLock(holder, lock);
        TestPostgres.await(holder.query("BEGIN; SELECT 1").execute());
        await().atMost(Duration.ofSeconds(15)).until(() -> TestPostgres.sql("SELECT count(*) FROM pg_stat_activity"
                + " WHERE pid = $1 AND state = 'idle in transaction'"
                + " AND clock_timestamp() - state_change > make_interval(secs => $2)", pid, threshold / 1000.0 + 0.2)
                .get(0).getLong(0) == 1);
        PgConnection follower = session("leader:cadence-behind-transaction");
        Row row = TestPostgres.await(eviction(lease).lock(false, follower, false, 0)).iterator().next();
        assertThat(row.getBoolean("ended")).isFalse();
        assertThat(row.getBoolean("locked")).as("tried, not taken").isFalse();
        assertThat(row.getLong("next_ms")).as("next look, ms: a threshold later, not a quarter heartbeat")
                .isEqualTo(threshold);
        assertThat(TestPostgres.alive(pid)).isTrue();
    }

    @Test
    void aFollowerThatEndedAHolderAndSawTheLockGoToAnotherLooksAgainSoon() throws Exception {
        Duration lease = Duration.ofSeconds(1);
        long threshold = lease.plus(HEARTBEAT).toMillis();
        ElectionOptions options = options(lease);
        TestPostgres.sql(options.terms().ddl());
        PgConnection hung = session("leader:cadence-hung");
        int hungPid = TestPostgres.holdLock(hung, lock);
        // a session in line before the follower: granted the lock once the first holder is ended, then silent too
        PgConnection ahead = session("leader:cadence-ahead");
        int aheadPid = pid(ahead);
        Future<RowSet<Row>> aheadWaits = ahead.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(lock));
        awaitWaiting(aheadPid);
        await().atMost(Duration.ofSeconds(15)).until(() -> silentMillis(hungPid) > threshold + 100);

        Vertx vertx = Vertx.vertx();
        CompletableFuture<Long> leads = new CompletableFuture<>();
        CompletableFuture<String> lost = new CompletableFuture<>();
        SessionAttempt attempt = null;
        int followerPid = 0;
        try {
            PgConnection conn = TestPostgres.await(PgConnection.connect(vertx, PgConnectOptions.fromUri(TestPostgres.url())));
            // as an election session is: its own lock_timeout is the poll, here an hour
            TestPostgres.await(conn.query("SET lock_timeout = '" + POLL.toMillis() + "ms'").execute());
            followerPid = pid(conn);
            attempt = new SessionAttempt(vertx, new BackendSession(conn, followerPid), (a, reason) -> lost.complete(reason));
            SessionAttempt follower = attempt;
            LockAcquisition acquisition = new LockAcquisition(options, new Lease(lease), eviction(lease), a -> {
            }, (holder, term, confirmedAt) -> leads.complete(term), (a, reason) -> lost.complete(reason));
            vertx.runOnContext(v -> acquisition.acquire(follower));

            TestPostgres.await(aheadWaits); // the first look ended the hung holder; the lock went to the session ahead
            // which the follower ends in turn, a threshold of its silence later, rather than after its wait of a poll
            assertThat(leads).succeedsWithin(Duration.ofSeconds(10));
            assertThat(lost).isNotDone();
            // a backend gives its locks up before it leaves pg_stat_activity
            await("the first holder ended").atMost(Duration.ofSeconds(5)).until(() -> !TestPostgres.alive(hungPid));
            await("the holder after it ended").atMost(Duration.ofSeconds(5)).until(() -> !TestPostgres.alive(aheadPid));
        } finally {
            if (attempt != null) {
                attempt.end();
            }
            if (followerPid != 0) { // a session still waiting would hold the close up
                TestPostgres.sql("SELECT pg_terminate_backend($1)", followerPid);
            }
            TestPostgres.await(vertx.close());
        }
    }

    private static long silentMillis(int pid) {
        return TestPostgres.sql("SELECT (extract(epoch FROM clock_timestamp() - state_change) * 1000)::bigint"
                + " FROM pg_stat_activity WHERE pid = $1 AND state = 'idle'", pid).stream().findFirst()
                .map(row -> row.getLong(0)).orElse(0L);
    }

    private HungLeaderEviction eviction(Duration lease) {
        return new HungLeaderEviction(() -> {
            throw new AssertionError("no statement through the pool");
        }, options(lease), "quarkus.leader.evict-hung-leader");
    }

    private PgConnection session(String applicationName) {
        PgConnection conn = TestPostgres.connect(TestPostgres.url(), applicationName);
        sessions.add(conn);
        return conn;
    }

    private static int pid(PgConnection conn) {
        return TestPostgres.await(conn.query("SELECT pg_backend_pid()").execute()).iterator().next().getInteger(0);
    }

    /** Once the session of backend {@code pid} waits for the lock. */
    private void awaitWaiting(int pid) {
        await().atMost(Duration.ofSeconds(10)).until(() -> TestPostgres.sql("SELECT count(*) FROM pg_locks"
                + " WHERE pid = $1 AND locktype = 'advisory' AND NOT granted", pid).get(0).getLong(0) == 1);
    }

    private ElectionOptions options(Duration lease) {
        TermTable terms = new TermTable(Optional.empty(), TermTable.DEFAULT_TABLE, true, Duration.ofSeconds(1),
                "quarkus.leader.fencing.create-table");
        return new ElectionOptions(PgConnectOptions.fromUri(TestPostgres.url()), lock, "cadence", List.of(),
                AcquireStrategy.WAIT, POLL, HEARTBEAT, lease, Duration.ofMillis(50), Duration.ofMillis(500),
                Duration.ofSeconds(5), Duration.ofSeconds(2), terms,
                SessionDatasource.withoutProvider(DataSourceUtil.DEFAULT_DATASOURCE_NAME),
                PoolerCheck.fix(LeaderElection.DEFAULT_NAME, Optional.empty()));
    }
}
