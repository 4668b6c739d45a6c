package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A max-payload-size beyond what a PostgreSQL text value holds fails start-up, naming the setting and the range,
 * instead of a bound that the leader's queries could not keep.
 */
class InvalidDurablePayloadSizeTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.durable.max-payload-size", "2G")
            .assertException(e -> assertThat(e).hasStackTraceContaining("quarkus.leader.durable.max-payload-size must be"
                    + " between 1 byte and 1G (PostgreSQL's limit for a text value), got 2147483648"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
