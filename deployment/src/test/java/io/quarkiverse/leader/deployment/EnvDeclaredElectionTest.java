package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * An election declared only by an environment variable the build sees, {@value #VARIABLE}: it exists, can be
 * injected and leads. Runs in a surefire execution of its own that sets the variable (see {@code deployment/pom.xml}).
 */
// skipped, not failed, where the variable is missing (the default execution, with -Dtest=...)
@EnabledIfEnvironmentVariable(named = EnvDeclaredElectionTest.VARIABLE, matches = "[0-9]+")
class EnvDeclaredElectionTest {

    static final String VARIABLE = "QUARKUS_LEADER__ENVJOBS__LOCK";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create();

    @Inject
    @Election("envjobs")
    LeaderElection envJobs;

    @Test
    void theVariableDeclaresTheElection() {
        long lock = Long.parseLong(System.getenv(VARIABLE));
        await().atMost(Duration.ofSeconds(15)).until(envJobs::isLeader);
        assertThat(envJobs.name()).isEqualTo("envjobs");
        assertThat(envJobs.lock()).isEqualTo(lock);
        assertThat(TestPostgres.lockHolders(lock)).isEqualTo(1);
    }
}
