package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Which configuration keys declare a named election, and which do not.
 */
class DeclaredElectionNamesTest {

    @Test
    void onlyAnElectionsOwnSettingsDeclareIt() {
        assertThat(ElectionNamesProcessor.declaredNames(List.of(
                "quarkus.leader.lock", // the default election
                "quarkus.leader.fencing.table", // the default election's group
                "quarkus.leader.health.enabled", // the build-time health switch
                "quarkus.leader.jobs.lock",
                "quarkus.leader.\"Reports.v2\".poll",
                "quarkus.leader.sweeper.fencing.idle-timeout",
                "quarkus.leader.fencng.table", // a typo, not an election
                "quarkus.leader.\"<default>\".lock",
                "quarkus.datasource.jobs.lock")))
                .containsExactly("Reports.v2", "jobs", "sweeper");
    }
}
