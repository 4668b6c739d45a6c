package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.deployment.ReplicatedElections.Changes;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.TermTable;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.core.Vertx;

/**
 * Terms stay monotonic across a promotion even when the last term bump never reached the standby (asynchronous
 * replication): the first term of the promoted server's timeline is greater than every term of the old one.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class TermAcrossPromotionTest {

    private static final Logger LOG = Logger.getLogger(TermAcrossPromotionTest.class);
    private static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final ReplicatedPostgres PG = ReplicatedPostgres.start("terms");

    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        TestPostgres.await(vertx.close());
    }

    @Test
    void aPromotedStandbyNeverIssuesATermAgainThatTheOldPrimaryIssued() {
        long lock = TestPostgres.uniqueLock();
        List<String> hosts = List.of(PG.url(0), PG.url(1));
        String termOf = "SELECT term FROM " + TermTable.DEFAULT_TABLE + " WHERE lock_key = $1";

        long replicated = lead("first", lock, hosts);
        PG.awaitReplayed();
        PG.cutReplication();
        long lost = lead("second", lock, hosts); // committed on the primary, never shipped
        assertThat(lost).isGreaterThan(replicated);
        assertThat(PG.sql(PG.standby(), termOf, lock).get(0).getLong(0)).as("the standby's term").isEqualTo(replicated);
        long timelineBefore = PG.timeline();

        PG.stopPrimary();
        PG.promoteStandby();
        long after = lead("third", lock, hosts);
        LOG.infof("Terms: %d replicated, %d lost with the old primary (timeline %d), %d on the promoted standby"
                + " (timeline %d)", replicated, lost, timelineBefore, after, PG.timeline());

        assertThat(after).as("the first term after the promotion").isGreaterThan(lost);
        assertThat(TestPostgres.lockHolders(PG.primaryUrl(), lock)).isZero(); // the third has left
    }

    /** An election on {@code hosts} that leads once and leaves; its term. */
    private static long lead(String instanceId, long lock, List<String> hosts) {
        Changes changes = new Changes();
        ElectionSession election = new ElectionSession(vertx, TestElections.options(instanceId, lock, hosts), changes);
        try {
            TestPostgres.await(election.start());
            await().atMost(WAIT).until(changes::leads);
            assertThat(TestPostgres.lockHolders(PG.primaryUrl(), lock)).as("holders on the primary").isEqualTo(1);
            return changes.last().term();
        } finally {
            TestPostgres.await(election.stop());
        }
    }
}
