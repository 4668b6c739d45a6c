package io.quarkiverse.leader.it;

import static io.quarkus.devtools.codestarts.quarkus.QuarkusCodestartCatalog.Language.JAVA;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.devtools.testing.codestarts.QuarkusCodestartTest;

/**
 * {@code quarkus create app -x quarkus-leader}: the codestart's application has a notification handler, a
 * leader-only job, a leadership observer and its configuration, and its own test passes, run by Maven on the test
 * PostgreSQL (the generated test uses Dev Services where a container runtime works; here it is given a URL).
 */
class LeaderCodestartIT {

    private static final long BUILD_MINUTES = 15;

    @RegisterExtension
    static final QuarkusCodestartTest CODESTART = QuarkusCodestartTest.builder()
            .languages(JAVA)
            .setupStandaloneExtensionTest("io.quarkiverse.leader:quarkus-leader")
            .build();

    @Test
    void generatesTheExample() throws Throwable {
        CODESTART.checkGeneratedSource("org.acme.LeaderExample");
        CODESTART.checkGeneratedSource("org.acme.Greeting");
        CODESTART.checkGeneratedTestSource("org.acme.LeaderExampleTest");
        CODESTART.assertThatGeneratedFile(JAVA, "src/main/resources/application.properties").content()
                .contains("quarkus.datasource.db-kind=postgresql");
    }

    @Test
    void generatedApplicationPassesItsOwnTest() throws Exception {
        Path project = CODESTART.getProjectWithRealDataDir(JAVA);
        List<String> command = new ArrayList<>(List.of(maven(), "-B", "-q", "verify"));
        String repository = System.getProperty("maven.repo.local");
        if (repository != null) { // the repository the extension was installed into
            command.add("-Dmaven.repo.local=" + repository);
        }
        File log = project.resolve("build.log").toFile();
        ProcessBuilder build = new ProcessBuilder(command).directory(project.toFile())
                .redirectErrorStream(true).redirectOutput(log);
        // the forked test JVM reads these as configuration: the suite's PostgreSQL instead of Dev Services
        build.environment().put("QUARKUS_DATASOURCE_REACTIVE_URL", TestPostgres.url());
        build.environment().put("QUARKUS_DATASOURCE_DEVSERVICES_ENABLED", "false");
        build.environment().put("QUARKUS_LEADER_LOCK", Long.toString(TestPostgres.uniqueLock()));
        Process process = build.start();
        try {
            assertThat(process.waitFor(BUILD_MINUTES, TimeUnit.MINUTES))
                    .as("the generated application's build ends within %d minutes, see %s", BUILD_MINUTES, log)
                    .isTrue();
            assertThat(process.exitValue()).as("the generated application's build, see %s", log).isZero();
        } finally {
            process.destroyForcibly();
        }
    }

    private static String maven() {
        String home = System.getProperty("maven.home");
        if (home == null) {
            return "mvn";
        }
        return Path.of(home, "bin", "mvn").toString();
    }
}
