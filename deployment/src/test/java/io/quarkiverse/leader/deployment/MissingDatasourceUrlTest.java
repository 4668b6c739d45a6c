package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

class MissingDatasourceUrlTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.datasource", "elsewhere")
            .assertException(e -> assertThat(e)
                    .hasStackTraceContaining("reactive datasource 'elsewhere'")
                    .hasStackTraceContaining("set quarkus.datasource.\"elsewhere\".reactive.url"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
