package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Two elections of one instance on the same lock of the same datasource would compete with each other: start-up fails,
 * naming both.
 */
class SharedLockConfigTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.lock", "4711")
            .overrideConfigKey("quarkus.leader.jobs.lock", "4711")
            .assertException(e -> assertThat(e).hasStackTraceContaining(
                    "The elections default and 'jobs' both run on lock 4711 of the same datasource; give them different"
                            + " quarkus.leader.\"jobs\".lock values"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
