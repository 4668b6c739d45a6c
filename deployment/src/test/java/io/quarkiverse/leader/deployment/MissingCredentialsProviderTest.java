package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A credentials provider that the application does not have fails start-up, naming it. The pool, made at start-up,
 * says it first; the election says it too, with the settings, where the pool comes later.
 */
class MissingCredentialsProviderTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.datasource.credentials-provider", "app-db")
            .overrideConfigKey("quarkus.datasource.credentials-provider-name", "no-such-provider")
            .assertException(e -> assertThat(e).hasStackTraceContaining("credentials provider")
                    .hasStackTraceContaining("no-such-provider"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
