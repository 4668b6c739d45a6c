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
            .overrideConfigKey("quarkus.leader.enabled", "false");

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
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> !election.isLeader());
        assertThat(TestPostgres.lockHolders(election.lock())).isZero();
    }
}
