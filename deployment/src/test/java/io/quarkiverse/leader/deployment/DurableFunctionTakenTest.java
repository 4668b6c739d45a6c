package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * The send function names its table: an application with other durable settings, whose function has the same name,
 * neither replaces it (which would send every producer's messages to its own table) nor stores anything; its sends
 * fail, naming the setting that gives it a function of its own.
 */
class DurableFunctionTakenTest {

    static final String FUNCTION = "taken_test_send";
    static final String OTHERS = "taken_test_others";

    static {
        // another application's storage: its table, and a function of the name this one is configured with
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS " + OTHERS + " (id bigserial PRIMARY KEY, payload text)");
        TestPostgres.sql("CREATE OR REPLACE FUNCTION " + FUNCTION + "(channel text, payload text) RETURNS bigint"
                + " LANGUAGE sql AS 'INSERT INTO " + OTHERS + " (payload) VALUES ($2) RETURNING id'");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.durable.table", "taken_test_messages")
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION);

    @Inject
    LeaderElection election;

    @Test
    void sendsFailAndTheOtherFunctionStays() {
        assertThatThrownBy(() -> election.send("orders", "{}").await().atMost(Duration.ofSeconds(10)))
                .hasMessageContaining("stores into another table")
                .hasMessageContaining("quarkus.leader.durable.function");
        assertThat(TestPostgres.sql("SELECT count(*) FROM pg_proc WHERE proname = $1 AND prosrc LIKE '%" + OTHERS + "%'",
                FUNCTION).get(0).getLong(0)).isOne();
        assertThat(TestPostgres.sql("SELECT to_regclass('taken_test_messages') IS NULL").get(0).getBoolean(0)).isTrue();
    }

    @AfterAll
    static void dropTheOthers() {
        TestPostgres.sql("DROP FUNCTION IF EXISTS " + FUNCTION + "(text, text)");
        TestPostgres.sql("DROP TABLE IF EXISTS " + OTHERS);
    }
}
