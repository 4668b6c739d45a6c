package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.MessageTable;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;

/**
 * The leader's fetch and acknowledgement keep index plans on a backlog built after the table was created empty and
 * never analysed, also as the generic plans a statement cache may settle on after five executions.
 */
class DurableFetchPlanTest {

    static final String TABLE = "plan_test_messages";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Idle.class)
            .overrideConfigKey("quarkus.leader.enabled", "false")
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "plan_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "plan_test_send");

    @Inject
    LeaderElection election;

    @Test
    void fetchAndAckUseIndexesOnABacklog() {
        election.sendAndAwait("other", "created empty, then filled");
        TestPostgres.sql("INSERT INTO " + TABLE + " (channel, payload) SELECT 'c' || (i % 20), repeat('x', 200)"
                + " FROM generate_series(1, 50000) i");
        PgConnection conn = TestPostgres.connect();
        try {
            TestPostgres.await(conn.query("SET plan_cache_mode = force_generic_plan").execute());
            MessageTable table = new MessageTable(Optional.empty(), TABLE, "plan_test_send", "wakeup", true, false, "", "");
            TestPostgres.await(conn.query("PREPARE fetch_pending AS " + table.fetchSql())
                    .execute());
            TestPostgres.await(conn.query("PREPARE ack_handled AS " + table.ackSql()).execute());
            TestPostgres.await(conn.query("PREPARE fetch_on_primary AS " + table.fetchOnPrimarySql()).execute());
            // the parameter types as PostgreSQL infers them for the extension's own prepared statements
            List<Row> types = TestPostgres.await(conn.query("SELECT parameter_types::text FROM pg_prepared_statements"
                    + " WHERE name = 'fetch_pending'").execute()).stream().toList();
            assertThat(types.get(0).getString(0)).isEqualTo("{text,bigint,bigint,bigint}");
            String fetch = plan(conn, "EXPLAIN EXECUTE fetch_pending('c7', 100, 3221225472, 8388608)");
            String ack = plan(conn, "EXPLAIN EXECUTE ack_handled(ARRAY[1, 2, 3]::bigint[])");
            assertThat(fetch).contains("Index Scan using " + TABLE + "_pending").doesNotContain("Seq Scan")
                    .doesNotContain("Sort");
            System.out.println("fetch plan:\n" + fetch);
            // as the leader sends it, with the primary check in the same statement
            String onPrimary = plan(conn, "EXPLAIN EXECUTE fetch_on_primary('c7', 100, 3221225472, 8388608)");
            assertThat(onPrimary).contains("Index Scan using " + TABLE + "_pending").doesNotContain("Seq Scan")
                    .doesNotContain("Sort");
            assertThat(ack).contains(TABLE + "_pkey").doesNotContain("Seq Scan");
        } finally {
            conn.close();
        }
    }

    private static String plan(PgConnection conn, String explain) {
        List<String> lines = TestPostgres.await(conn.query(explain).execute()).stream().map((Row r) -> r.getString(0))
                .collect(Collectors.toList());
        return String.join("\n", lines);
    }

    static class Idle {

        @OnLeaderNotification(value = "c7", durable = true)
        void onMessage(String payload) {
        }
    }
}
