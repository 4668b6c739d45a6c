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
 * With eviction at its default, a leader whose process is alive but stuck (its session holds the lock and says
 * nothing) is evicted once the server has heard nothing from it for lease + heartbeat, and a follower leads.
 */
class HungLeaderTest {

    private static final long LOCK = TestPostgres.uniqueLock();
    private static PgConnection hung;

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.lock", Long.toString(LOCK))
            .overrideConfigKey("quarkus.leader.lease", "1s")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            // stands for a stopped leader: taken before the application starts, then silent
            .setBeforeAllCustomizer(() -> {
                hung = TestPostgres.connect(TestPostgres.url(), "leader:hung-" + LOCK);
                TestPostgres.holdLock(hung, LOCK);
            })
            .setAfterAllCustomizer(() -> hung.close());

    @Inject
    LeaderElection election;

    @Test
    void aHungLeaderIsEvictedByDefault() {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        assertThat(TestPostgres.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
                + " AND datname = current_database()", "leader:hung-" + election.lock()).get(0).getLong(0)).isZero();
        assertThat(TestPostgres.lockHolders(election.lock())).isEqualTo(1);
    }
}
