package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderOnly;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Election names the configuration does not declare, and reserved ones, fail the build, all reported at once.
 */
class UnknownElectionTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(UsesUnknownElections.class)
            .overrideConfigKey("quarkus.leader.known.lock", "42")
            .overrideConfigKey("quarkus.leader.\"health\".lock", "43")
            .overrideConfigKey("quarkus.leader.\"delivery\".lock", "44")
            .assertException(e -> assertThat(e).hasMessageContainingAll(
                    "@OnLeaderNotification names the election 'nope', which is not configured: declare it with"
                            + " quarkus.leader.\"nope\".lock (or any other quarkus.leader.\"nope\".* property); the"
                            + " configured ones are [delivery, health, known]: "
                            + UsesUnknownElections.class.getName() + "#handle(String)",
                    "@LeaderOnly names the election 'gone', which is not configured",
                    UsesUnknownElections.class.getName() + "#job()",
                    "@Election names the election 'missing', which is not configured",
                    UsesUnknownElections.class.getName() + "#election",
                    "quarkus.leader.\"health\".* cannot declare an election: 'health' is a group of the default"
                            + " election's settings; choose another name",
                    "quarkus.leader.\"delivery\".* cannot declare an election: 'delivery' is a group of the default"
                            + " election's settings; choose another name"));

    @Test
    void buildFails() {
        fail("the build should have failed");
    }

    @Singleton
    static class UsesUnknownElections {

        @Inject
        @Election("missing")
        LeaderElection election;

        @OnLeaderNotification(value = "a", election = "nope")
        void handle(String payload) {
        }

        @LeaderOnly(election = "gone")
        void job() {
        }
    }
}
