package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * An election that only the run-time configuration has, which the build did not know, fails start-up: it would
 * otherwise be silently ignored.
 */
class RuntimeOnlyElectionTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.jobs.lock", "7231201")
            .overrideRuntimeConfigKey("quarkus.leader.\"nightly\".poll", "1s")
            .assertException(e -> assertThat(e).hasMessageContainingAll(
                    "The election 'nightly' is in the run-time configuration (quarkus.leader.\"nightly\".poll",
                    "but the application was built without it",
                    "named elections are fixed at build time",
                    "set any quarkus.leader.\"nightly\".* property in the configuration the build reads",
                    "the elections of this build are [<default>, jobs]"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
