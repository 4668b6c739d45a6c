package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * {@code ssl-mode=verify-full} needs a host name check, which {@code hostname-verification-algorithm} leaves out by
 * default: start-up fails and says what to set, rather than an election that never connects. The pool, made at
 * start-up, says it first; the election says it too where the pool comes later.
 */
class VerifyFullWithoutHostnameAlgorithmTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.datasource.reactive.postgresql.ssl-mode", "verify-full")
            .assertException(e -> assertThat(e)
                    .hasStackTraceContaining("quarkus.datasource.reactive.hostname-verification-algorithm")
                    .hasStackTraceContaining("verify-full"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
