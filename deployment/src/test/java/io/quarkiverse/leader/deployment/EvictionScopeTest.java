package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgConnection;

/**
 * Eviction ends hung sessions of the election's own database only. The election runs in a database of its own; a
 * session of the test database holds the same key, idle far longer than the eviction threshold, and is left alone, while
 * an idle holder in the election's database is evicted.
 */
class EvictionScopeTest {

    private static final String DATABASE = TestPostgres.database("evict", null);
    private static final String DATABASE_URL = TestPostgres.url(DATABASE, TestPostgres.user());
    /** lease + heartbeat */
    private static final Duration THRESHOLD = Duration.ofMillis(1200);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(TestElections.class, TestElections.RecordingListener.class)
            .overrideConfigKey("quarkus.datasource.reactive.url", DATABASE_URL)
            .overrideConfigKey("quarkus.leader.instance-id", "evict-scope")
            .overrideConfigKey("quarkus.leader.evict-hung-leader", "true")
            .overrideConfigKey("quarkus.leader.lease", "1s")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            // no term table at first: the election cannot lead, so it looks for a hung leader every heartbeat
            .overrideConfigKey("quarkus.leader.fencing.create-table", "false")
            .setAfterAllCustomizer(() -> TestPostgres.dropDatabase(DATABASE));

    @Inject
    LeaderElection election;

    @Test
    void leavesSessionsOfOtherDatabasesAlone() {
        PgConnection elsewhere = TestPostgres.connect(TestPostgres.url(), "leader:ghost");
        PgConnection here = null;
        try {
            int ghost = TestPostgres.holdLock(elsewhere, election.lock());
            await().during(THRESHOLD.multipliedBy(3)).atMost(THRESHOLD.multipliedBy(3).plusSeconds(5))
                    .until(() -> TestPostgres.alive(ghost) && !election.isLeader());

            // a hung holder in its own database is evicted, and the election leads there
            here = TestPostgres.connect(DATABASE_URL, "leader:hung-here");
            int hung = TestPostgres.holdLock(here, election.lock());
            TestPostgres.sqlIn(DATABASE_URL, TestElections.TERMS.ddl());
            await().atMost(THRESHOLD.plusSeconds(10)).until(election::isLeader);
            assertThat(TestPostgres.alive(hung)).isFalse();
            assertThat(election.currentLeader().await().atMost(Duration.ofSeconds(10)))
                    .hasValueSatisfying(l -> assertThat(l.instanceId()).isEqualTo("evict-scope"));

            await().during(THRESHOLD.multipliedBy(2)).atMost(THRESHOLD.multipliedBy(2).plusSeconds(5))
                    .until(() -> TestPostgres.alive(ghost));
            assertThat(TestPostgres.lockHolders(election.lock())).isEqualTo(1);
        } finally {
            elsewhere.close();
            if (here != null) {
                here.close();
            }
        }
    }
}
