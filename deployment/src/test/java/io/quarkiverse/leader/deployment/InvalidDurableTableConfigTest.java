package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A message table name so long that PostgreSQL would cut its index names to the same 63 bytes fails start-up, naming
 * the setting and the limit, instead of leaving the table without the index its fetch needs.
 */
class InvalidDurableTableConfigTest {

    static final String LONG = "a_message_table_with_a_name_long_enough_to_be_cut_by_postgres"; // 61 bytes

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.durable.table", LONG)
            .assertException(e -> assertThat(e).hasStackTraceContaining("quarkus.leader.durable.table '" + LONG
                    + "' has 61 bytes of UTF-8; at most 55 are allowed"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }
}
