package io.quarkiverse.leader.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;

/**
 * How often a follower looks for a hung leader: the first in line of those waiting for the lock (the lowest backend
 * pid), or one that does not wait, looks again just after the holder, silent from then on, would have crossed the
 * threshold; any other waiter a threshold later still, so that it takes the watch over should the first not end the
 * holder (here the poll, an hour, is never the bound). Each look costs the server a statement on {@code pg_locks} and
 * {@code pg_stat_activity}. The holder here is a session of the test's own that says nothing.
 */
class EvictionCadenceTest {

    private static final Duration POLL = Duration.ofHours(1);
    private static final Duration HEARTBEAT = Duration.ofMillis(500);
    private static final Duration LEASE = Duration.ofSeconds(20); // threshold 20.5 s: never crossed during the test

    private final long lock = TestPostgres.uniqueLock();
    private final List<PgConnection> sessions = new ArrayList<>();
    private Vertx vertx;
    private Pool pool;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        pool = Pool.pool(vertx, PgConnectOptions.fromUri(TestPostgres.url()), new PoolOptions().setMaxSize(1));
    }

    @AfterEach
    void stop() {
        sessions.forEach(PgConnection::close);
        TestPostgres.await(pool.close());
        TestPostgres.await(vertx.close());
    }

    @Test
    void onlyTheFirstInLineLooksAsOftenAsTheHoldersSilenceNeeds() {
        TestPostgres.holdLock(session("leader:cadence-holder"), lock);
        int first = waitForLock(session("leader:cadence-a"));
        int second = waitForLock(session("leader:cadence-b"));
        int lower = Math.min(first, second);
        int higher = Math.max(first, second);

        long threshold = LEASE.plus(HEARTBEAT).toMillis();
        long firstInLine = next(lower);
        assertThat(firstInLine).as("next look of the first in line, ms").isGreaterThan(HEARTBEAT.toMillis())
                .isLessThanOrEqualTo(threshold + HEARTBEAT.toMillis() / 4);
        // a threshold after the first in line, at most a poll (here an hour) later
        assertThat(next(higher)).as("next look of a follower behind it, ms").isGreaterThan(firstInLine)
                .isLessThanOrEqualTo(2 * threshold + HEARTBEAT.toMillis() / 4);
        assertThat(next(0)).as("next look of a follower with no session that waits, ms")
                .isGreaterThan(HEARTBEAT.toMillis()).isLessThanOrEqualTo(threshold + HEARTBEAT.toMillis() / 4);
        assertThat(TestPostgres.lockHolders(lock)).as("the holder, silent for less than the threshold").isEqualTo(1);
    }

    @Test
    void withNoHolderTheNextLookComesAfterAHeartbeat() {
        assertThat(next(0)).isEqualTo(HEARTBEAT.toMillis());
    }

    /** The delay a check of the follower whose session has backend {@code pid} chooses before its next one. */
    private long next(int pid) {
        Context context = vertx.getOrCreateContext();
        HungLeaderEviction eviction = new HungLeaderEviction(context, () -> pool, options(), () -> false, () -> pid,
                "quarkus.leader.evict-hung-leader");
        return TestPostgres.await(eviction.check());
    }

    private PgConnection session(String applicationName) {
        PgConnection conn = TestPostgres.connect(TestPostgres.url(), applicationName);
        sessions.add(conn);
        return conn;
    }

    /** Starts waiting for the lock on {@code conn} (the wait goes on) and returns its backend pid once it waits. */
    private int waitForLock(PgConnection conn) {
        int pid = TestPostgres.await(conn.query("SELECT pg_backend_pid()").execute()).iterator().next().getInteger(0);
        conn.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(lock));
        await().atMost(Duration.ofSeconds(10)).until(() -> TestPostgres.sql("SELECT count(*) FROM pg_locks"
                + " WHERE pid = $1 AND locktype = 'advisory' AND NOT granted", pid).get(0).getLong(0) == 1);
        return pid;
    }

    private ElectionOptions options() {
        TermTable terms = new TermTable(Optional.empty(), TermTable.DEFAULT_TABLE, true, Duration.ofSeconds(1),
                "quarkus.leader.fencing.create-table");
        return new ElectionOptions(PgConnectOptions.fromUri(TestPostgres.url()), lock, "cadence", List.of(),
                AcquireStrategy.WAIT, POLL, HEARTBEAT, LEASE, Duration.ofMillis(50), Duration.ofMillis(500),
                Duration.ofSeconds(5), Duration.ofSeconds(2), terms,
                SessionDatasource.withoutProvider(DataSourceUtil.DEFAULT_DATASOURCE_NAME),
                PoolerCheck.fix(LeaderElection.DEFAULT_NAME, Optional.empty()));
    }
}
