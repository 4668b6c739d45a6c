package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.HoldingProxy;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.Sockets;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

/**
 * What the lock's holder does between a follower's look-up and the moment its eviction reaches the server decides the
 * eviction: the follower's lock statement, which ends a hung holder, is held on its way (a proxy) while the holder
 * speaks, runs a statement, or gives the lock up to another session, and the holder survives each time. Only the session that
 * is
 * idle, silent past the threshold and holding the lock when the statement runs is ended.
 */
class EvictionRaceTest {

    private static final String DATABASE = TestPostgres.database("race", null);
    private static final String DATABASE_URL = TestPostgres.url(DATABASE, TestPostgres.user());
    private static final HoldingProxy PROXY = HoldingProxy.shared(DATABASE_URL, "pg_terminate_backend");
    /** Longer than the eviction threshold, lease + heartbeat (1.2 s). */
    private static final double SILENT_SECONDS = 1.5;
    private static final Duration WAIT = Duration.ofSeconds(15);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(TestElections.class, HoldingProxy.class, Sockets.class)
            .overrideConfigKey("quarkus.datasource.reactive.url", PROXY.url())
            // every statement sent with its text, so that the proxy can tell which one ends a session
            .overrideConfigKey("quarkus.datasource.reactive.cache-prepared-statements", "false")
            .overrideConfigKey("quarkus.leader.instance-id", "race")
            .overrideConfigKey("quarkus.leader.lease", "1s")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            // tries the lock with each look rather than waiting in line, where the test's own successor waits
            .overrideConfigKey("quarkus.leader.acquire", "poll")
            // the looks come at the threshold's pace; a long poll keeps the session open while the proxy holds one
            .overrideConfigKey("quarkus.leader.poll", "30s")
            // no term table at first: the election cannot lead before the test's holder has the lock
            .overrideConfigKey("quarkus.leader.fencing.create-table", "false")
            .setAfterAllCustomizer(() -> {
                PROXY.passAll();
                TestPostgres.dropDatabase(DATABASE);
            });

    @Inject
    LeaderElection election;

    @Test
    void onlyTheSessionHungWhenTheStatementRunsIsEnded() {
        PgConnection holder = TestPostgres.connect(DATABASE_URL, "leader:holder");
        PgConnection successor = TestPostgres.connect(DATABASE_URL, "leader:successor");
        try {
            int pid = TestPostgres.holdLock(holder, election.lock());
            TestPostgres.sqlIn(DATABASE_URL, TestElections.TERMS.ddl());

            // it speaks while the statement is on its way: no longer silent
            await().atMost(WAIT).until(() -> PROXY.held() >= 1);
            TestPostgres.await(holder.query("SELECT 1").execute());
            passAndExpectAlive(1, pid, "a holder that has just spoken");

            // it runs a statement for longer than the threshold: silent by state_change, but not idle
            await().atMost(WAIT).until(() -> PROXY.held() >= 2);
            Future<RowSet<Row>> running = holder.query("SELECT pg_sleep(4)").execute();
            await().atMost(WAIT).until(() -> silentFor(pid, "active"));
            passAndExpectAlive(2, pid, "a holder running a statement");
            TestPostgres.await(running);

            // the lock changes hands: the holder lets go, another session that waited takes it, and both go silent
            await().atMost(WAIT).until(() -> PROXY.held() >= 3);
            int successorPid = TestPostgres.await(successor.query("SELECT pg_backend_pid()").execute()).iterator().next()
                    .getInteger(0);
            Future<RowSet<Row>> taking = successor.preparedQuery("SELECT pg_advisory_lock($1)")
                    .execute(Tuple.of(election.lock()));
            await().atMost(WAIT).until(() -> TestPostgres.sqlIn(DATABASE_URL, "SELECT count(*) FROM pg_locks"
                    + " WHERE pid = $1 AND locktype = 'advisory' AND NOT granted", successorPid).get(0).getLong(0) == 1);
            TestPostgres.await(holder.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(election.lock())));
            TestPostgres.await(taking);
            await().atMost(WAIT).until(() -> silentFor(pid, "idle") && silentFor(successorPid, "idle"));
            // the statement ends the session that holds the lock as it runs, not the one an earlier look found
            PROXY.passOne();
            await().atMost(WAIT).until(() -> PROXY.answered() >= 3);
            await("the hung successor is ended").atMost(Duration.ofSeconds(5))
                    .until(() -> !TestPostgres.alive(successorPid));
            await("a session that no longer holds the lock is not ended").during(Duration.ofMillis(500))
                    .atMost(Duration.ofSeconds(5)).until(() -> TestPostgres.alive(pid));
            // the election's next lock statements, which look for a hung holder too, go through from now on
            PROXY.passAll();
            await().atMost(WAIT).until(election::isLeader);
            assertThat(TestPostgres.lockHolders(DATABASE_URL, election.lock())).isEqualTo(1);
        } finally {
            PROXY.passAll();
            holder.close();
            successor.close();
        }
    }

    /** Lets the held statement reach the server, waits for its answer, and checks the holder lives on. */
    private static void passAndExpectAlive(int answers, int pid, String what) {
        PROXY.passOne();
        await().atMost(WAIT).until(() -> PROXY.answered() >= answers);
        // the server signals the session before it answers; a terminated session is gone within milliseconds
        await(what + " is not ended").during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .until(() -> TestPostgres.alive(pid));
    }

    /** Whether the session is in {@code state} and its state has not changed for longer than the threshold. */
    private static boolean silentFor(int pid, String state) {
        return TestPostgres.sqlIn(DATABASE_URL, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = $2"
                + " AND clock_timestamp() - state_change > make_interval(secs => $3)", pid, state, SILENT_SECONDS)
                .get(0).getLong(0) == 1;
    }
}
