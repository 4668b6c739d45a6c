package io.quarkiverse.leader.it;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;

/**
 * The floor of a JVM client that sends one statement per message: a bare Vert.x pool in the harness's JVM, no
 * extension, {@code inFlight} statements on their way at once, each lane sending its next when the last is answered.
 * Beside pgbench it shows what the client side costs on this machine, where client and server share the cores.
 */
final class BareSends {

    private BareSends() {
    }

    /**
     * Messages per second of {@code sql} (parameters: channel, payload), the median of the rounds after a warm-up;
     * {@code reset} runs before each round (the table emptied, as pgbench's runs find it).
     */
    static double rate(String url, String sql, String payload, int messages, int inFlight, int rounds, Runnable reset) {
        Vertx vertx = Vertx.vertx();
        Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(inFlight))
                .connectingTo(PgConnectOptions.fromUri(url).setCachePreparedStatements(true)).using(vertx).build();
        try {
            reset.run();
            round(pool, sql, payload, messages, inFlight); // warm-up: the JIT's
            List<Double> rates = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                reset.run();
                rates.add(round(pool, sql, payload, messages, inFlight));
            }
            Collections.sort(rates);
            return rates.get(rates.size() / 2);
        } finally {
            await(pool.close());
            await(vertx.close());
        }
    }

    private static double round(Pool pool, String sql, String payload, int messages, int inFlight) {
        AtomicInteger next = new AtomicInteger();
        List<Future<Void>> lanes = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < inFlight; i++) {
            Promise<Void> lane = Promise.promise();
            step(pool, sql, payload, next, messages, lane);
            lanes.add(lane.future());
        }
        await(Future.all(lanes));
        return messages * 1e9 / (System.nanoTime() - start);
    }

    private static void step(Pool pool, String sql, String payload, AtomicInteger next, int messages,
            Promise<Void> lane) {
        if (next.getAndIncrement() >= messages) {
            lane.complete();
            return;
        }
        pool.preparedQuery(sql).execute(Tuple.of("bench_bare", payload)).onComplete(ar -> {
            if (ar.failed()) {
                lane.fail(ar.cause());
            } else {
                step(pool, sql, payload, next, messages, lane);
            }
        });
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the bare client's run did not complete: " + e.getMessage(), e);
        }
    }
}
