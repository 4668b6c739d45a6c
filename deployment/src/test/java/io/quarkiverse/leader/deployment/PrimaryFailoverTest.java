package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.quarkiverse.leader.deployment.ReplicatedElections.Change;
import io.quarkiverse.leader.deployment.ReplicatedElections.Changes;
import io.quarkiverse.leader.runtime.ElectionOptions;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.core.Vertx;

/**
 * One election on the two hosts of a primary and its streaming standby: it leads on the primary only, steps down when
 * the primary goes (a fast shutdown, or its postmaster killed), never leads on the standby before its promotion, and
 * leads on it, without any change of configuration, soon after.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class PrimaryFailoverTest {

    private static final Logger LOG = Logger.getLogger(PrimaryFailoverTest.class);
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** How many times the election's walk reaches the standby, and skips it, before it is promoted. */
    private static final int STANDBY_ATTEMPTS = 3;

    @RegisterExtension
    static final ReplicatedPostgres PG = ReplicatedPostgres.start("failover");

    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        TestPostgres.await(vertx.close());
    }

    @ParameterizedTest(name = "the primary is {0}")
    @ValueSource(strings = { "shut down", "killed", "shut down", "killed" })
    void theElectionFollowsThePrimary(String how) {
        long lock = TestPostgres.uniqueLock();
        // the standby first: the walk skips it
        ElectionOptions options = TestElections.options("follower-of-" + how.replace(' ', '-'), lock,
                List.of(PG.standbyUrl(), PG.primaryUrl()));
        Changes changes = new Changes();
        ElectionSession election = new ElectionSession(vertx, options, changes);
        int oldPrimary = PG.primary();
        try {
            TestPostgres.await(election.start());
            await().atMost(WAIT).until(changes::leads);
            assertThat(TestPostgres.lockHolders(PG.primaryUrl(), lock)).as("holders on the primary").isEqualTo(1);
            assertThat(TestPostgres.lockHolders(PG.standbyUrl(), lock)).as("holders on the standby").isZero();
            long termBefore = changes.last().term();

            long cut = System.nanoTime();
            if (how.equals("killed")) {
                PG.killPrimary();
            } else {
                PG.stopPrimary();
            }
            await().atMost(WAIT).until(() -> !changes.leads());
            long stepDownMs = (changes.last().nanos() - cut) / 1_000_000;
            int changesBeforePromotion = changes.changes.size();
            // no primary now: the standby is tried and skipped, again and again, and never led on
            String session = "leader:" + options.instanceId();
            long triedBefore = PG.sessions(PG.standby(), session);
            await().atMost(WAIT)
                    .failFast("a leadership change before the promotion",
                            () -> changes.changes.size() != changesBeforePromotion)
                    .until(() -> PG.sessions(PG.standby(), session) >= triedBefore + STANDBY_ATTEMPTS);
            assertThat(TestPostgres.lockHolders(PG.standbyUrl(), lock)).as("holders on the standby").isZero();

            PG.promoteStandby();
            long promoted = System.nanoTime();
            await().atMost(WAIT).until(changes::leads);
            Change leading = changes.last();
            long newLeaderMs = (leading.nanos() - promoted) / 1_000_000;
            LOG.infof("Primary %s: stepped down %d ms after, led again %d ms after pg_ctl promote returned, term %d"
                    + " then %d", how, stepDownMs, newLeaderMs, termBefore, leading.term());

            assertThat(PG.primary()).isNotEqualTo(oldPrimary);
            assertThat(PG.inRecovery(PG.primary())).isFalse();
            assertThat(TestPostgres.lockHolders(PG.primaryUrl(), lock)).as("holders on the new primary").isEqualTo(1);
            assertThat(stepDownMs).as("step-down after the primary went").isLessThan(options.lease().toMillis());
            // the backoff's longest delay and the old primary's attempt, bounded by a lease
            assertThat(newLeaderMs).as("new leadership after the promotion")
                    .isLessThan(options.reconnectMaxDelay().plus(options.lease()).toMillis());
            assertThat(leading.term()).isGreaterThan(termBefore);
        } finally {
            TestPostgres.await(election.stop());
            PG.rebuildStandby();
        }
    }
}
