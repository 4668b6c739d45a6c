package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

class InvalidHeartbeatConfigTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.heartbeat", "5s")
            .overrideConfigKey("quarkus.leader.lease", "5s")
            .assertException(e -> assertThat(e).hasStackTraceContaining(
                    "quarkus.leader.heartbeat (PT5S) must be shorter than quarkus.leader.lease (PT5S)"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
