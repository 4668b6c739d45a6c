package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.ElectionNames;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Which properties declare a named election at build time: any of an election's own settings, quoted or not, nested
 * or not; not the default election's settings and groups, nor the build-time health switch. The value of a setting
 * is a run-time value: an expression the build cannot resolve still declares the election.
 */
class DeclaredElectionsTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.application.name", "declared-elections-test")
            .overrideConfigKey("quarkus.leader.instance-id", "declared-test")
            .overrideConfigKey("quarkus.leader.fencing.idle-timeout", "4s") // the default election's group
            .overrideConfigKey("quarkus.leader.delivery.queue-size", "100") // another one
            .overrideConfigKey("quarkus.leader.health.enabled", "true") // the build-time health switch
            .overrideConfigKey("quarkus.leader.jobs.poll", "6s") // unquoted, a setting other than the lock
            .overrideConfigKey("quarkus.leader.\"Reports.v2\".enabled", "false") // quoted, with a dot
            .overrideConfigKey("quarkus.leader.sweeper.fencing.idle-timeout", "3s") // a nested setting
            // resolved only at run time: the build reads the name, not the value
            .overrideConfigKey("quarkus.leader.sweeper.instance-id", "${SWEEPER_INSTANCE_ID}")
            .overrideRuntimeConfigKey("SWEEPER_INSTANCE_ID", "sweeper-1");

    @Inject
    ElectionNames names;

    @Inject
    @Election("jobs")
    LeaderElection jobs;

    @Inject
    @Election("Reports.v2")
    LeaderElection reports;

    @Inject
    @Election("sweeper")
    LeaderElection sweeper;

    @Test
    void eachElectionsOwnSettingsDeclareIt() {
        assertThat(names.names()).containsExactly(LeaderElection.DEFAULT_NAME, "Reports.v2", "jobs", "sweeper");
        await().atMost(Duration.ofSeconds(15)).until(() -> jobs.isLeader() && sweeper.isLeader());
        assertThat(jobs.instanceId()).isEqualTo("declared-test");
        assertThat(sweeper.instanceId()).isEqualTo("sweeper-1");
        assertThat(reports.isLeader()).isFalse();
    }
}
