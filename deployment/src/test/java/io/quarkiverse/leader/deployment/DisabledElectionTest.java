package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgConnection;

/**
 * With the election switched off the instance never leads, holds no lock, and can still send.
 */
class DisabledElectionTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.enabled", "false")
            .overrideConfigKey("quarkus.leader.instance-id", "disabled-test");

    @Inject
    LeaderElection election;

    @Test
    void neverLeadsButSends() {
        PgConnection listener = TestPostgres.connect();
        List<String> received = new CopyOnWriteArrayList<>();
        try {
            listener.notificationHandler(n -> received.add(n.getPayload()));
            TestPostgres.await(listener.query("LISTEN disabled_test").execute());
            election.notifyAndAwait("disabled_test", "sent anyway");
            await().untilAsserted(() -> assertThat(received).containsExactly("sent anyway"));
        } finally {
            listener.close();
        }
        // not a vacuous isLeader(): an enabled election would have opened its session and taken this free lock by now
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> TestPostgres.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'leader:disabled-test'").get(0)
                .getLong(0) == 0 && TestPostgres.lockHolders(election.lock()) == 0);
        assertThat(election.isLeader()).isFalse();
        assertThat(election.currentLeader().await().atMost(Duration.ofSeconds(5))).isEmpty();
    }
}
