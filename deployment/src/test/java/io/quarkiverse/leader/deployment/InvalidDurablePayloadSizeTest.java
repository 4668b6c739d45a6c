package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A max-payload-size beyond what a leader reads in one fetch fails start-up, naming the setting and the range.
 */
class InvalidDurablePayloadSizeTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.durable.max-payload-size", "65M")
            .assertException(e -> assertThat(e).hasStackTraceContaining("quarkus.leader.durable.max-payload-size must be"
                    + " between 1 byte and 64M, got 68157440; keep larger data in a table of its own and send its key"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
