package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.PreparedQuery;
import io.vertx.mutiny.sqlclient.PreparedStatement;
import io.vertx.mutiny.sqlclient.Query;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;

/**
 * The fence over a fenced transaction's connection holds from the moment its work ends, before COMMIT goes out, and
 * for statements built during the work but run later; and only the extension's own check at COMMIT reads as "the work
 * ended the transaction itself".
 */
class FencedStatementGuardTest {

    static {
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS guard_test_writes (marker text NOT NULL)");
        // a row of this table makes COMMIT slow (a deferred trigger sleeps), or fail with a bad cast of its own
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS guard_test_deferred (action text NOT NULL)");
        TestPostgres.sql("CREATE OR REPLACE FUNCTION guard_test_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN IF NEW.action = 'sleep' THEN PERFORM pg_sleep(1.5); ELSE PERFORM NEW.action::int; END IF;"
                + " RETURN NULL; END $$");
        TestPostgres.sql("DROP TRIGGER IF EXISTS guard_test_at_commit ON guard_test_deferred");
        TestPostgres.sql("CREATE CONSTRAINT TRIGGER guard_test_at_commit AFTER INSERT ON guard_test_deferred"
                + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION guard_test_at_commit()");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create();

    @Inject
    LeaderElection election;

    @Test
    void aStatementSentWhileCommitIsUnderWayIsRefused() throws Exception {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        String marker = marker("during commit");
        CompletableFuture<Throwable> late = new CompletableFuture<>();

        election.fenced(conn -> conn.query("INSERT INTO guard_test_deferred VALUES ('sleep')").execute()
                .invoke(() -> Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(300))
                        .chain(() -> write(conn, marker))
                        .subscribe().with(ok -> late.complete(null), late::complete))) // COMMIT sleeps meanwhile
                .await().atMost(Duration.ofSeconds(10));

        assertThat(late.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is over");
        assertThat(written(marker)).isZero();
    }

    @Test
    void queriesAndStatementsKeptByTheWorkAreRefusedWhenTheyRunLater() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        String marker = marker("kept");
        AtomicReference<Query<RowSet<Row>>> query = new AtomicReference<>();
        AtomicReference<PreparedQuery<RowSet<Row>>> prepared = new AtomicReference<>();
        AtomicReference<PreparedStatement> statement = new AtomicReference<>();

        election.fenced(conn -> {
            query.set(conn.query("INSERT INTO guard_test_writes VALUES ('" + marker + "')"));
            prepared.set(conn.preparedQuery("INSERT INTO guard_test_writes VALUES ($1)"));
            return conn.prepare("INSERT INTO guard_test_writes VALUES ($1)").invoke(statement::set);
        }).await().atMost(Duration.ofSeconds(10));

        List<Uni<?>> late = List.of(query.get().execute(), prepared.get().execute(Tuple.of(marker)),
                prepared.get().executeBatch(List.of(Tuple.of(marker))),
                statement.get().query().execute(Tuple.of(marker)));
        for (Uni<?> statementRun : late) {
            assertThatThrownBy(() -> statementRun.await().atMost(Duration.ofSeconds(10)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("is over");
        }
        assertThatThrownBy(() -> statement.get().cursor(Tuple.of(marker)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is over");
        assertThat(written(marker)).isZero();
    }

    @Test
    void aBadCastAtCommitIsPassedOnAsItIs() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);

        assertThatThrownBy(() -> election.fenced(conn -> conn.query("INSERT INTO guard_test_deferred VALUES ('x')")
                .execute().replaceWith(1)).await().atMost(Duration.ofSeconds(10)))
                .isInstanceOf(PgException.class)
                .hasMessageContaining("invalid input syntax for type integer")
                .satisfies(e -> assertThat(((PgException) e).getSqlState()).isEqualTo("22P02"));
    }

    private String marker(String what) {
        return what + "@" + election.lock(); // a server given by the environment keeps the rows of earlier runs
    }

    private static Uni<Void> write(SqlConnection conn, String marker) {
        return conn.preparedQuery("INSERT INTO guard_test_writes VALUES ($1)").execute(Tuple.of(marker))
                .replaceWithVoid();
    }

    private static long written(String marker) {
        return TestPostgres.sql("SELECT count(*) FROM guard_test_writes WHERE marker = $1", marker).get(0).getLong(0);
    }
}
