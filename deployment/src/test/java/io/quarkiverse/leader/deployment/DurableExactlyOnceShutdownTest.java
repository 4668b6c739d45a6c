package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.runtime.LeaderShutdownListener;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A leader that leaves lets a running exactly-once method commit: its effect and the acknowledgement land in the
 * term that is ending, before the unlock, rather than being rolled back and done again by the next leader.
 */
class DurableExactlyOnceShutdownTest {

    static final String TABLE = "exactly_once_shutdown_messages";

    static {
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS exactly_once_shutdown_effects (payload text NOT NULL)");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Effects.class)
            .overrideConfigKey("quarkus.leader.durable.table",
                    TestPostgres.freshDurableStorage(TABLE, "exactly_once_shutdown_send"))
            .overrideConfigKey("quarkus.leader.durable.function", "exactly_once_shutdown_send");

    @Inject
    LeaderElection election;

    @Inject
    Effects effects;

    @Test
    void theRunningMethodsEffectCommitsBeforeTheUnlock() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        String payload = "shutdown-" + election.lock(); // unique to this run
        long id = election.sendAndAwait("exactly", payload);
        effects.started.get(10, TimeUnit.SECONDS);

        CompletableFuture<Void> left = new CompletableFuture<>();
        new LeaderShutdownListener().preShutdown(() -> left.complete(null)); // what the application's shutdown does first
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(3)).until(() -> !left.isDone());
        effects.release.complete(null);
        left.get(10, TimeUnit.SECONDS);

        assertThat(TestPostgres.sql("SELECT count(*) FROM exactly_once_shutdown_effects WHERE payload = $1", payload)
                .get(0).getLong(0)).isEqualTo(1);
        assertThat(TestPostgres.sql("SELECT count(*) FROM " + TABLE + " WHERE id = $1", id).get(0).getLong(0)).isZero();
    }

    static class Effects {

        final CompletableFuture<Void> started = new CompletableFuture<>();
        final CompletableFuture<Void> release = new CompletableFuture<>();

        @OnLeaderNotification(value = "exactly", durable = true)
        Uni<Void> onMessage(String payload, SqlConnection conn) {
            started.complete(null);
            // the write comes once the leader has begun to leave
            return Uni.createFrom().completionStage(release).ifNoItem().after(Duration.ofSeconds(20)).fail()
                    .chain(() -> conn.preparedQuery("INSERT INTO exactly_once_shutdown_effects (payload) VALUES ($1)")
                            .execute(Tuple.of(payload)))
                    .replaceWithVoid();
        }
    }
}
