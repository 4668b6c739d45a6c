package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * An instance id with characters PostgreSQL does not keep in an {@code application_name} (it replaces or escapes
 * them, by version) still names the leader in {@code currentLeader()}: the name is percent-encoded by the election.
 */
class NonAsciiInstanceIdTest {

    static final String ID = "nöde-ü-100%-東京";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.instance-id", ID);

    @Inject
    LeaderElection election;

    @Test
    void theLeaderIsFoundByItsOwnId() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        LeaderInfo leader = election.currentLeader().await().atMost(Duration.ofSeconds(10)).orElseThrow();
        assertThat(leader.instanceId()).isEqualTo(ID);
        assertThat(leader.term()).isEqualTo(election.term().getAsLong());
        assertThat(TestPostgres.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                "leader:n%C3%B6de-%C3%BC-100%25-%E6%9D%B1%E4%BA%AC").get(0).getLong(0)).isEqualTo(1);
    }
}
