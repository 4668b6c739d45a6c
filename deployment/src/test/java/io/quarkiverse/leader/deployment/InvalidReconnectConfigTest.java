package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A rejected attempt's cap shorter than a failed connection's fails start-up, naming both settings of the election.
 */
class InvalidReconnectConfigTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.\"jobs\".lock", Long.toString(TestPostgres.uniqueLock()))
            .overrideConfigKey("quarkus.leader.\"jobs\".reconnect-rejected-max-delay", "200ms")
            .assertException(e -> assertThat(e).hasStackTraceContaining(
                    "quarkus.leader.\"jobs\".reconnect-rejected-max-delay (PT0.2S) must not be shorter than"
                            + " quarkus.leader.\"jobs\".reconnect-max-delay (PT0.5S)"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
