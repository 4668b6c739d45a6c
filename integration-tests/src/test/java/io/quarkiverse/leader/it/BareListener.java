package io.quarkiverse.leader.it;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;

/**
 * A bare JVM with one plain session that LISTENs on {@code bench} and times each notification as the sample's
 * {@link BenchmarkProbe} does: the benchmark's baseline for notification latency, in the same run and the same
 * topology; on the durable wake-up channel, it times the wake-ups that carry the benchmark's messages. Arguments: the
 * database URL, and the channel ({@code bench} when absent). Commands on standard input: {@code reset}, {@code stats} (answers
 * {@code count p50 p99 p999} in microseconds), {@code exit}.
 */
public final class BareListener {

    private static final long[] LATENCIES = new long[1_000_000];
    private static final AtomicInteger COUNT = new AtomicInteger();
    /** The sender's clock in the benchmark's payloads, within a durable wake-up too. */
    private static final String SENT_KEY = "\"sentMicros\":";

    private BareListener() {
    }

    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        PgConnection conn = PgConnection.connect(vertx, PgConnectOptions.fromUri(args[0])).toCompletionStage()
                .toCompletableFuture().get();
        conn.notificationHandler(n -> {
            long now = BenchmarkProbe.nowMicros();
            String payload = n.getPayload();
            int key = payload.indexOf(SENT_KEY);
            if (key < 0) {
                return; // a wake-up that names its channel alone, or another's
            }
            int start = key + SENT_KEY.length();
            long sent = Long.parseLong(payload, start, payload.indexOf(',', start), 10);
            int i = COUNT.getAndIncrement();
            if (i < LATENCIES.length) {
                LATENCIES[i] = now - sent;
            }
        });
        String channel = args.length > 1 ? args[1] : "bench";
        conn.query("LISTEN " + channel).execute().toCompletionStage().toCompletableFuture().get();
        System.out.println("listening");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String command;
        while ((command = in.readLine()) != null && !command.equals("exit")) {
            if (command.equals("reset")) {
                COUNT.set(0);
                System.out.println("reset");
            } else if (command.equals("stats")) {
                int n = Math.min(COUNT.get(), LATENCIES.length);
                long[] sorted = Arrays.copyOf(LATENCIES, n);
                Arrays.sort(sorted);
                System.out.println(n + " " + percentile(sorted, 0.50) + " " + percentile(sorted, 0.99) + " "
                        + percentile(sorted, 0.999));
            }
            System.out.flush();
        }
        vertx.close();
    }

    private static long percentile(long[] sorted, double p) {
        return sorted.length == 0 ? -1 : sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    }
}
