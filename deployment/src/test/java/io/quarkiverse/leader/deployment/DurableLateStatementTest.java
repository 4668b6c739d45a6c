package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * An exactly-once method that outlives its call-timeout: its attempt has failed and its transaction rolled back, so a
 * statement it sends on its connection afterwards is refused (it would run outside the fence, on a connection back in
 * the pool), and the retry's effect is the only one.
 */
class DurableLateStatementTest {

    static final String TABLE = "late_statement_test_messages";

    static {
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS late_statement_effects (payload text NOT NULL, call int NOT NULL)");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Effects.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "late_statement_test_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "late_statement_test_send")
            .overrideConfigKey("quarkus.leader.durable.call-timeout", "300ms")
            .overrideConfigKey("quarkus.leader.durable.retry-initial-delay", "50ms");

    @Inject
    LeaderElection election;

    @Inject
    Effects effects;

    @Test
    void aStatementAfterTheCallTimedOutIsRefused() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        String payload = "late-" + election.lock();

        election.sendAndAwait("late", payload);

        Throwable late = effects.lateStatement.get(15, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(late).isInstanceOf(IllegalStateException.class).hasMessageContaining("is over");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(TestPostgres
                .sql("SELECT count(*) FROM " + TABLE).get(0).getLong(0)).isZero());
        assertThat(TestPostgres.sql("SELECT call FROM late_statement_effects WHERE payload = $1", payload))
                .singleElement().satisfies(row -> assertThat(row.getInteger(0)).isEqualTo(2));
    }

    static class Effects {

        final List<String> calls = new CopyOnWriteArrayList<>();
        final CompletableFuture<Throwable> lateStatement = new CompletableFuture<>();

        @OnLeaderNotification(value = "late", durable = true)
        Uni<Void> onMessage(String payload, SqlConnection conn) {
            calls.add(payload);
            int call = calls.size();
            Uni<Void> write = Uni.createFrom().deferred(() -> conn
                    .preparedQuery("INSERT INTO late_statement_effects (payload, call) VALUES ($1, $2)")
                    .execute(Tuple.of(payload, call)).replaceWithVoid());
            if (call > 1) {
                return write;
            }
            // well past call-timeout: the attempt is over when the statement goes out
            return Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofSeconds(1)).chain(() -> write)
                    .onItemOrFailure().invoke((ok, failure) -> lateStatement.complete(failure));
        }
    }
}
