package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.TimeoutException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;

/**
 * Concurrent sends through the pool share statements and commits (group commit): each still gets its own message's id,
 * its caller goes on on its own context, and a send whose caller gives up while it waits is never stored. The pool has
 * one connection, and this instance takes no part in the election, so the pool is the sends' and the test's alone.
 */
class DurableSendBatchTest {

    static final String TABLE = "send_batch_test_messages";
    static final String FUNCTION = "send_batch_test_send";
    static final Duration BOUND = Duration.ofSeconds(20);

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Orders.class)
            .overrideConfigKey("quarkus.leader.enabled", "false")
            .overrideConfigKey("quarkus.datasource.reactive.max-size", "1")
            .overrideConfigKey("quarkus.leader.durable.table", TestPostgres.freshDurableStorage(TABLE, FUNCTION))
            .overrideConfigKey("quarkus.leader.durable.function", FUNCTION);

    @Inject
    LeaderElection election;

    @Inject
    Pool pool;

    @Inject
    Vertx vertx;

    @Test
    void concurrentSendsShareCommitsAndEachGetsItsOwnMessage() {
        int sends = 300;
        List<Uni<Long>> all = new ArrayList<>();
        for (int i = 0; i < sends; i++) {
            all.add(election.send("orders", "message " + i));
        }
        List<Long> ids = Uni.join().all(all).andFailFast().await().atMost(BOUND);

        Map<Long, String> payloads = new HashMap<>();
        List<String> transactions = new ArrayList<>();
        for (Row row : TestPostgres.sql("SELECT id, payload, xmin::text FROM " + TABLE + " WHERE id = ANY($1)",
                (Object) ids.toArray(Long[]::new))) {
            payloads.put(row.getLong(0), row.getString(1));
            transactions.add(row.getString(2));
        }
        for (int i = 0; i < sends; i++) {
            assertThat(payloads.get(ids.get(i))).as("the message of send %d", i).isEqualTo("message " + i);
        }
        // one transaction a message, unbatched; the first two go at once, then the rest in batches of at most 256
        assertThat(transactions.stream().distinct().count()).isLessThanOrEqualTo(sends / 10);
    }

    @Test
    void eachSenderGoesOnOnItsOwnContext() throws Exception {
        // as two requests' contexts are: duplicates of one event loop's
        Context root = vertx.getOrCreateContext();
        Context[] contexts = { VertxContext.createNewDuplicatedContext(root), VertxContext.createNewDuplicatedContext(root) };
        List<CompletableFuture<Boolean>> onOwn = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Context context = contexts[i % 2];
            CompletableFuture<Boolean> own = new CompletableFuture<>();
            onOwn.add(own);
            context.runOnContext(v -> election.send("orders", "context").subscribe().with(
                    id -> own.complete(Vertx.currentContext() == context), own::completeExceptionally));
        }
        for (CompletableFuture<Boolean> own : onOwn) {
            assertThat(own.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aSendWhoseCallerGaveUpWhileItWaitedIsNeverStored() {
        election.sendAndAwait("orders", "storage ready");
        SqlConnection held = pool.getConnection().await().atMost(BOUND); // the pool's only one
        List<Uni<Long>> before;
        try {
            // the first two wait for the connection as statements on their way; the third waits for them
            before = List.of(election.send("orders", "first").memoize().indefinitely(),
                    election.send("orders", "second").memoize().indefinitely());
            before.forEach(uni -> uni.subscribe().with(id -> {
            }, e -> {
            }));
            assertThatThrownBy(() -> election.send("orders", "given up").ifNoItem().after(Duration.ofMillis(300))
                    .fail().await().atMost(BOUND)).isInstanceOf(TimeoutException.class);
        } finally {
            held.closeAndAwait();
        }
        for (Uni<Long> sent : before) {
            sent.await().atMost(BOUND);
        }
        long after = election.sendAndAwait("orders", "after");
        assertThat(TestPostgres.sql("SELECT count(*) FILTER (WHERE payload = 'given up'), max(id) FROM " + TABLE)
                .get(0)).satisfies(row -> {
                    assertThat(row.getLong(0)).as("messages of the send that gave up").isZero();
                    assertThat(row.getLong(1)).isEqualTo(after);
                });
    }

    @Test
    void aMessageTheTableRefusesFailsItsOwnSendOnly() {
        election.sendAndAwait("orders", "storage ready");
        TestPostgres.sql("ALTER TABLE " + TABLE + " ADD CONSTRAINT no_poison CHECK (payload <> 'poison')");
        try {
            List<Uni<Long>> sends = new ArrayList<>();
            SqlConnection held = pool.getConnection().await().atMost(BOUND);
            try {
                // the first two leave alone and wait for the connection; the other three then go in one statement
                for (String payload : List.of("first", "second", "before", "poison", "after")) {
                    Uni<Long> send = election.send("orders", payload).memoize().indefinitely();
                    send.subscribe().with(id -> {
                    }, e -> {
                    });
                    sends.add(send);
                }
            } finally {
                held.closeAndAwait();
            }
            assertThatThrownBy(() -> sends.get(3).await().atMost(BOUND)).isInstanceOf(PgException.class)
                    .hasMessageContaining("no_poison");
            for (int i : new int[] { 0, 1, 2, 4 }) {
                assertThat(sends.get(i).await().atMost(BOUND)).isPositive();
            }
        } finally {
            TestPostgres.sql("ALTER TABLE " + TABLE + " DROP CONSTRAINT no_poison");
        }
    }

    static class Orders {

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
        }
    }
}
