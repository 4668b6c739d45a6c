package io.quarkiverse.leader.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * The benchmark ({@code ./mvnw -B verify -Pbench}): failover, notification latency, throughput against the raw
 * PostgreSQL ceiling measured in the same run, and what an idle instance costs; and the heap of a leader whose slow
 * method gets a burst far beyond its mailbox. Prints a table and writes {@code target/bench/results.json} (and
 * {@code mailbox.json}); and durable channels beside pgbench baselines ({@code durable.json}). Figures, not assertions:
 * only gross breakage fails it. One case alone: {@code -Dit.test=BenchIT#measure}, {@code BenchIT#boundedMailbox} or
 * {@code BenchIT#durable}.
 */
class BenchIT {

    static final int TRIALS = Integer.getInteger("bench.trials", 12);
    static final int LATENCY_MESSAGES = Integer.getInteger("bench.latency-messages", 10_000);
    // latency under a steady load, not at saturation (the throughput runs measure that): a paced sender
    static final int LATENCY_RATE = Integer.getInteger("bench.latency-rate", 1_000);
    static final int THROUGHPUT_MESSAGES = Integer.getInteger("bench.throughput-messages", 40_000);
    static final int CONCURRENCY = 64;
    static final int BURST = Integer.getInteger("bench.burst", 100_000);
    static final int BURST_PAYLOAD = Integer.getInteger("bench.burst-payload", 500);
    // one transaction each, back to back: in one transaction of 1000-byte payloads the PostgreSQL client's decoder,
    // which keeps every byte of an unbroken stream, runs out of the instance's 128 MB (a bare Vert.x client too)
    static final int BURST_BATCH = Integer.getInteger("bench.burst-batch", 1_000);
    // the extension's default quarkus.leader.delivery.queue-size, which the sample's slow channel keeps
    static final int QUEUE_SIZE = 10_000;
    // the extension's defaults, not the sample's tighter timings
    // the sample's named election is switched off: one election per instance, as the figures describe
    static final Map<String, String> CONFIG = Map.of("quarkus.leader.heartbeat", "1s", "quarkus.leader.lease", "5s",
            "quarkus.leader.poll", "10s", "quarkus.leader.reports.enabled", "false", "quarkus.log.level", "WARN");

    static final Path PGBENCH = Path.of("/usr/bin/pgbench");

    private final long lock = TestPostgres.uniqueLock();
    private final List<AppInstance> live = new ArrayList<>();
    private final List<AppInstance> all = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<String, Object> results = new LinkedHashMap<>();
    private final List<String> table = new ArrayList<>();

    @AfterEach
    void stopAll() {
        all.forEach(AppInstance::close);
    }

    @Test
    void measure() throws Exception {
        for (int i = 0; i < 3; i++) {
            start(CONFIG);
        }
        failover();
        latency();
        throughput();
        cost();
        report();
    }

    // ---- a burst against a slow method

    /**
     * BURST notifications of BURST_PAYLOAD bytes, sent back to back, to a method that handles 200 per second: the
     * leader's heap after a full collection, with its mailbox full, beside the same figure before the burst and the
     * bound's worth of payloads.
     */
    @Test
    void boundedMailbox() throws IOException {
        AppInstance leader = start(CONFIG);
        await().atMost(Duration.ofSeconds(30)).until(leader::isLeader);
        // warmed up, and the slow method's meters registered: a hundred go through first
        slowBurst(100);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> slowMetric(leader, "leader_notifications_handled_seconds_count") >= 100);
        long idleHeap = leader.heapUsedBytes();

        long sent = System.nanoTime();
        slowBurst(BURST);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                .until(() -> slowMetric(leader, "leader_notifications_received_total") >= 100 + BURST);
        long receivedMillis = (System.nanoTime() - sent) / 1_000_000;
        long fullHeap = leader.heapUsedBytes();
        long queued = slowMetric(leader, "leader_notifications_queued");
        long dropped = slowMetric(leader, "leader_notifications_dropped_total", "reason=\"overflow\"");
        long handled = slowMetric(leader, "leader_notifications_handled_seconds_count") - 100;
        long bound = (long) QUEUE_SIZE * BURST_PAYLOAD;
        boolean stillLeads = leader.isLeader();

        Map<String, Object> mailbox = new LinkedHashMap<>();
        mailbox.put("burst", BURST);
        mailbox.put("payload_bytes", BURST_PAYLOAD);
        mailbox.put("per_transaction", BURST_BATCH);
        mailbox.put("queue_size", QUEUE_SIZE);
        mailbox.put("received_ms", receivedMillis);
        mailbox.put("heap_idle_mb", mb(idleHeap));
        mailbox.put("heap_mailbox_full_mb", mb(fullHeap));
        mailbox.put("bound_mb", mb(bound));
        mailbox.put("queued", queued);
        mailbox.put("dropped_overflow", dropped);
        mailbox.put("handled_during_burst", handled);
        mailbox.put("still_leads", stillLeads);
        List<String> lines = List.of(
                String.format("%-44s %d x %d B, %d per transaction, all received in %d ms", "burst to a 5 ms ordered"
                        + " handler", BURST, BURST_PAYLOAD, BURST_BATCH, receivedMillis),
                String.format("%-44s before the burst %.1f  mailbox full %.1f  bound (queue-size x payload) %.1f",
                        "leader heap after full GC (MB)", mb(idleHeap), mb(fullHeap), mb(bound)),
                String.format("%-44s queued %d  dropped (overflow) %d  handled %d  still leads %s", "the slow method",
                        queued, dropped, handled, stillLeads));
        Path out = Path.of("target", "bench", "mailbox.json");
        Files.createDirectories(out.getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), mailbox);
        System.out.println();
        lines.forEach(line -> System.out.println("[bench] " + line));
        System.out.println("[bench] written to " + out.toAbsolutePath());
        // gross breakage only: an unbounded mailbox would hold the whole burst
        assertThat(queued).isLessThanOrEqualTo(QUEUE_SIZE);
        assertThat(dropped).isPositive();
        assertThat(fullHeap - idleHeap).isLessThan((long) BURST * BURST_PAYLOAD / 2);
    }

    /** {@code count} notifications on the sample's slow channel, each BURST_PAYLOAD bytes and distinct. */
    private static void slowBurst(int count) {
        PgConnection conn = TestPostgres.connect();
        try {
            for (int from = 1; from <= count; from += BURST_BATCH) {
                TestPostgres.await(conn.preparedQuery("SELECT pg_notify('slow', lpad(i::text, $3, 'x'))"
                        + " FROM generate_series($1::int, $2::int) AS i")
                        .execute(Tuple.of(from, Math.min(count, from + BURST_BATCH
                                - 1), BURST_PAYLOAD)));
            }
        } finally {
            conn.close();
        }
    }

    /** The sum of a meter's samples for the slow channel (with {@code tag} too, if given), from the leader's metrics. */
    private static long slowMetric(AppInstance instance, String name, String... tag) {
        String metrics = given().port(instance.port()).get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith(name + "{") && l.contains("channel=\"slow\"")
                && (tag.length == 0 || l.contains(tag[0])))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static double mb(long bytes) {
        return Math.round(bytes / 1024.0 / 1024.0 * 10) / 10.0;
    }

    // ---- durable channels

    /**
     * Durable channels beside pgbench baselines measured in the same run on the same database (see
     * {@link DurableBenchmark}); writes {@code target/bench/durable.json}.
     */
    @Test
    void durable() throws Exception {
        DurableBenchmark bench = new DurableBenchmark(this::start, CONFIG);
        try {
            bench.run();
        } finally {
            Map<String, Object> durable = new LinkedHashMap<>(bench.results());
            Map<String, Object> environment = new LinkedHashMap<>();
            environment.put("cores", Runtime.getRuntime().availableProcessors());
            environment.put("java", System.getProperty("java.version"));
            // commits cost what these say, for the instances and pgbench alike
            for (String setting : List.of("server_version", "synchronous_commit", "fsync")) {
                environment.put(setting, TestPostgres.sql("SHOW " + setting).get(0).getString(0));
            }
            durable.put("environment", environment);
            Path out = Path.of("target", "bench", "durable.json");
            Files.createDirectories(out.getParent());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), durable);
            System.out.println();
            System.out.println("[bench] " + environment);
            bench.table().forEach(line -> System.out.println("[bench] " + line));
            System.out.println("[bench] written to " + out.toAbsolutePath());
        }
    }

    // ---- failover

    /**
     * The floor for a takeover after SIGKILL on this machine now: a bare JVM holding a lock on a plain session is
     * killed while this JVM waits for the same lock.
     */
    private List<Long> sigkillFloor() throws Exception {
        List<Long> floor = new ArrayList<>();
        long floorLock = TestPostgres.uniqueLock();
        String java = ProcessHandle.current().info().command().orElse("java");
        PgConnection waiter = TestPostgres.connect();
        try {
            for (int t = 0; t < TRIALS; t++) {
                Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                        BareLockHolder.class.getName(), TestPostgres.url(), Long.toString(floorLock))
                        .redirectErrorStream(true).start();
                try (var out = new BufferedReader(new InputStreamReader(holder.getInputStream()))) {
                    String line;
                    while ((line = out.readLine()) != null && !line.equals("locked")) {
                        // start-up output
                    }
                }
                Future<?> granted = waiter.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(floorLock));
                sleepMillis(300); // the waiter is queued by now
                long t0 = System.nanoTime();
                holder.destroyForcibly();
                TestPostgres.await(granted);
                floor.add((System.nanoTime() - t0) / 1_000_000);
                holder.waitFor();
                TestPostgres.await(waiter.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(floorLock)));
            }
        } finally {
            waiter.close();
        }
        return floor;
    }

    private void failover() throws Exception {
        Map<String, Object> floor = summary(sigkillFloor());
        results.put("sigkill_floor_bare_jvm_ms", floor);
        table.add(row("SIGKILL floor: bare JVM -> waiting session (ms)", floor));
        List<Long> kill = endingTheLeader(AppInstance::kill);
        List<Long> graceful = endingTheLeader(AppInstance::stop);
        List<Long> terminate = new ArrayList<>();
        PgConnection admin = TestPostgres.connect();
        try {
            for (int t = 0; t < TRIALS; t++) {
                AppInstance leader = awaitOneLeader();
                await().atMost(Duration.ofSeconds(10)).until(() -> TestPostgres.lockHolders(lock) == 1);
                long t0 = System.currentTimeMillis();
                TestPostgres.await(admin.preparedQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE application_name = $1 AND datname = current_database()")
                        .execute(Tuple.of("leader:" + leader.id())));
                terminate.add(takeover(t0));
            }
        } finally {
            admin.close();
        }
        results.put("failover_sigkill_ms", summary(kill));
        results.put("handover_graceful_ms", summary(graceful));
        results.put("failover_pg_terminate_ms", summary(terminate));
        table.add(row("failover after SIGKILL (ms)", summary(kill)));
        table.add(row("handover on graceful stop (ms)", summary(graceful)));
        table.add(row("failover after pg_terminate_backend (ms)", summary(terminate)));
    }

    /** Ends the leader's process TRIALS times, replacing it each time; the takeover times. */
    private List<Long> endingTheLeader(Consumer<AppInstance> end) {
        List<Long> takeovers = new ArrayList<>();
        for (int t = 0; t < TRIALS; t++) {
            AppInstance leader = awaitOneLeader();
            long t0 = System.currentTimeMillis();
            end.accept(leader);
            live.remove(leader);
            takeovers.add(takeover(t0));
            start(CONFIG);
        }
        return takeovers;
    }

    /** From t0 to the first acquisition any live instance recorded after it. */
    private long takeover(long t0) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(() -> acquiredAfter(t0) > 0);
        return acquiredAfter(t0) - t0;
    }

    private long acquiredAfter(long t0) {
        long first = Long.MAX_VALUE;
        for (AppInstance instance : live) {
            try {
                for (String line : Files.readAllLines(instance.historyFile())) {
                    String[] parts = line.split(" ");
                    long at = Long.parseLong(parts[1]);
                    if (Boolean.parseBoolean(parts[0]) && at >= t0) {
                        first = Math.min(first, at);
                    }
                }
            } catch (IOException e) {
                // not written yet
            }
        }
        return first == Long.MAX_VALUE ? -1 : first;
    }

    // ---- latency

    private void latency() throws IOException {
        AppInstance leader = awaitOneLeader();
        AppInstance follower = follower(leader);
        // two processes only, warmed up: the figure is the path's, not the scheduler's or the JIT's
        for (AppInstance other : live.stream().filter(i -> i != leader && i != follower).toList()) {
            other.stop();
            live.remove(other);
        }
        // the baseline: a bare JVM LISTENing on the same channel times the same notifications
        try (BareListenerProcess bare = new BareListenerProcess("bench")) {
            send(follower, LATENCY_MESSAGES, 64, 1, LATENCY_RATE);
            send(follower, LATENCY_MESSAGES, 4096, 1, LATENCY_RATE);
            for (int size : new int[] { 64, 4096 }) {
                reset(leader);
                bare.reset();
                send(follower, LATENCY_MESSAGES, size, 1, LATENCY_RATE);
                Map<String, Object> stats = awaitReceived(leader, LATENCY_MESSAGES);
                Map<String, Object> ms = new LinkedHashMap<>();
                ms.put("p50", micros(stats, "p50Micros"));
                ms.put("p99", micros(stats, "p99Micros"));
                ms.put("p999", micros(stats, "p999Micros"));
                results.put(size == 64 ? "notify_latency_ms" : "notify_latency_4kb_ms", ms);
                table.add(String.format("%-44s p50 %.3f  p99 %.3f  p99.9 %.3f", "notify -> leader's handler, " + size
                        + " B (ms)", ms.get("p50"), ms.get("p99"), ms.get("p999")));
                Map<String, Object> baseline = bare.stats(LATENCY_MESSAGES);
                results.put(size == 64 ? "bare_listen_latency_ms" : "bare_listen_latency_4kb_ms", baseline);
                table.add(String.format("%-44s p50 %.3f  p99 %.3f  p99.9 %.3f", "notify -> bare LISTEN JVM, " + size
                        + " B (ms)", baseline.get("p50"), baseline.get("p99"), baseline.get("p999")));
            }
        }
    }

    // ---- throughput

    private void throughput() throws Exception {
        AppInstance leader = awaitOneLeader();
        long lost = 0;
        raw(1); // warm the bare client up too
        double one = ours(leader, List.of(follower(leader)));
        lost += THROUGHPUT_MESSAGES - count(leader);
        double rawOne = raw(1);
        while (live.size() < 5) {
            start(CONFIG);
        }
        List<AppInstance> senders = live.stream().filter(i -> i != leader).toList();
        double four = ours(leader, senders);
        lost += THROUGHPUT_MESSAGES - count(leader);
        double rawFour = raw(4);
        double ceiling = pgbenchToBareListener(4);
        double leaderRate = pgbenchToLeader(leader, 4);
        lost += ceiling > 0 ? THROUGHPUT_MESSAGES - count(leader) : 0;
        results.put("throughput_per_s", Math.round(leaderRate));
        results.put("raw_ceiling_per_s", Math.round(ceiling));
        results.put("throughput_ratio", ceiling > 0 ? round(leaderRate / ceiling) : null);
        results.put("notify_1_sender_per_s", Math.round(one));
        results.put("notify_4_senders_per_s", Math.round(four));
        results.put("bare_client_1_sender_per_s", Math.round(rawOne));
        results.put("bare_client_4_senders_per_s", Math.round(rawFour));
        results.put("lost", lost);
        table.add(String.format("%-44s leader %.0f  bare LISTEN %.0f  ratio %.2f", "pgbench 4 clients -> (msg/s)",
                leaderRate, ceiling, leaderRate / ceiling));
        table.add(String.format("%-44s ours %.0f  bare client %.0f", "notify from 1 follower (msg/s)", one, rawOne));
        table.add(String.format("%-44s ours %.0f  bare clients %.0f", "notify from " + senders.size()
                + " followers (msg/s)", four, rawFour));
        table.add(String.format("%-44s %d", "lost in the throughput runs", lost));
        assertThat(lost).isZero();
    }

    /** Followers send THROUGHPUT_MESSAGES between them as fast as they can; the leader's handler counts them. */
    private double ours(AppInstance leader, List<AppInstance> senders) throws Exception {
        reset(leader);
        int each = THROUGHPUT_MESSAGES / senders.size();
        long start = BenchmarkProbe.nowMicros();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (AppInstance sender : senders) {
            sends.add(CompletableFuture.runAsync(() -> send(sender, each, 64, CONCURRENCY)));
        }
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get();
        Map<String, Object> stats = awaitReceived(leader, each * senders.size());
        long last = ((Number) stats.get("lastMicros")).longValue();
        return each * senders.size() * 1e6 / (last - start);
    }

    /** The same load without the extension: bare pools send pg_notify, a bare connection LISTENs and counts. */
    private double raw(int senders) throws Exception {
        Vertx vertx = Vertx.vertx();
        PgConnectOptions options = PgConnectOptions.fromUri(TestPostgres.url());
        try {
            PgConnection listener = TestPostgres.await(PgConnection.connect(vertx, options));
            AtomicInteger received = new AtomicInteger();
            AtomicLong last = new AtomicLong();
            int each = THROUGHPUT_MESSAGES / senders;
            listener.notificationHandler(n -> {
                received.incrementAndGet();
                last.set(BenchmarkProbe.nowMicros());
            });
            TestPostgres.await(listener.query("LISTEN raw_bench").execute());
            String payload = "{\"sentMicros\":" + BenchmarkProbe.nowMicros() + ",\"seq\":0,\"pad\":\"" + "x".repeat(16)
                    + "\"}";
            List<Pool> pools = new ArrayList<>();
            for (int s = 0; s < senders; s++) {
                // the size of a Quarkus reactive pool by default
                pools.add(PgBuilder.pool().with(new PoolOptions().setMaxSize(20)).connectingTo(options).using(vertx)
                        .build());
            }
            long start = BenchmarkProbe.nowMicros();
            List<CompletableFuture<Void>> sends = new ArrayList<>();
            for (Pool pool : pools) {
                sends.add(CompletableFuture.runAsync(() -> {
                    AtomicInteger next = new AtomicInteger();
                    List<Future<Void>> lanes = new ArrayList<>();
                    for (int c = 0; c < CONCURRENCY; c++) {
                        lanes.add(lane(pool, next, each, payload));
                    }
                    TestPostgres.await(Future.all(lanes));
                }));
            }
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get();
            await().atMost(Duration.ofSeconds(60)).until(() -> received.get() >= each * senders);
            pools.forEach(Pool::close);
            listener.close();
            return each * senders * 1e6 / (last.get() - start);
        } finally {
            vertx.close();
        }
    }

    /** PostgreSQL's own rate: pgbench clients run pg_notify while a bare connection LISTENs and counts; 0 without pgbench. */
    private double pgbenchToBareListener(int clients) throws Exception {
        if (!Files.isExecutable(PGBENCH)) {
            return 0;
        }
        Vertx vertx = Vertx.vertx();
        try {
            PgConnection listener = TestPostgres
                    .await(PgConnection.connect(vertx, PgConnectOptions.fromUri(TestPostgres.url())));
            AtomicInteger received = new AtomicInteger();
            AtomicLong last = new AtomicLong();
            listener.notificationHandler(n -> {
                received.incrementAndGet();
                last.set(BenchmarkProbe.nowMicros());
            });
            TestPostgres.await(listener.query("LISTEN raw_bench").execute());
            int total = THROUGHPUT_MESSAGES / clients * clients;
            long start = BenchmarkProbe.nowMicros();
            if (!pgbench("raw_bench", clients, total / clients)) {
                return 0;
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> received.get() >= total);
            listener.close();
            return total * 1e6 / (last.get() - start);
        } finally {
            vertx.close();
        }
    }

    /** The same pgbench load, received by the leader's {@code @OnLeaderNotification} method instead. */
    private double pgbenchToLeader(AppInstance leader, int clients) throws Exception {
        if (!Files.isExecutable(PGBENCH)) {
            return 0;
        }
        reset(leader);
        int total = THROUGHPUT_MESSAGES / clients * clients;
        long start = BenchmarkProbe.nowMicros();
        if (!pgbench("bench", clients, total / clients)) {
            return 0;
        }
        Map<String, Object> stats = awaitReceived(leader, total);
        return total * 1e6 / (((Number) stats.get("lastMicros")).longValue() - start);
    }

    /** pgbench clients each send {@code each} notifications on {@code channel}, with the probe's payload shape. */
    private static boolean pgbench(String channel, int clients, int each) throws Exception {
        URI db = URI.create(TestPostgres.url());
        Path script = Files.createTempFile("notify", ".sql");
        Files.writeString(script,
                "SELECT pg_notify('" + channel + "', '{\"sentMicros\":' || (extract(epoch FROM clock_timestamp())"
                        + " * 1000000)::bigint || ',\"seq\":0,\"pad\":\"xxxxxxxxxxxxxxxx\"}');\n");
        try {
            String user = db.getUserInfo() == null ? "postgres" : db.getUserInfo().split(":")[0];
            Process run = new ProcessBuilder(PGBENCH.toString(), "-n", "-c", Integer.toString(clients), "-j", "2", "-t",
                    Integer.toString(each), "-f", script.toString(), "-h", db.getHost(), "-p", Integer.toString(db.getPort()),
                    "-U", user, db.getPath().substring(1)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!run.waitFor(120, java.util.concurrent.TimeUnit.SECONDS) || run.exitValue() != 0) {
                run.destroyForcibly();
                return false;
            }
            return true;
        } finally {
            Files.delete(script);
        }
    }

    private static Future<Void> lane(Pool pool, AtomicInteger next, int total, String payload) {
        if (next.getAndIncrement() >= total) {
            return Future.succeededFuture();
        }
        return pool.preparedQuery("SELECT pg_notify('raw_bench', $1)").execute(Tuple.of(payload))
                .compose(r -> lane(pool, next, total, payload));
    }

    // ---- cost

    private void cost() {
        for (AppInstance instance : new ArrayList<>(live)) {
            instance.stop();
            live.remove(instance);
        }
        AppInstance leader = start(CONFIG);
        await().atMost(Duration.ofSeconds(30)).until(leader::isLeader);
        AppInstance follower = start(CONFIG);
        Map<String, Double> rates = statementsPerSecond(List.of(leader, follower), Duration.ofSeconds(30));
        double leaderRate = rates.get(leader.id());
        double followerRate = rates.get(follower.id());
        results.put("idle_leader_queries_per_s", round(leaderRate));
        results.put("idle_follower_queries_per_s", round(followerRate));
        long sessions = TestPostgres.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
                + " AND datname = current_database()", "leader:" + follower.id()).get(0).getLong(0);
        results.put("election_sessions_per_instance", sessions);
        table.add(String.format("%-44s leader %.2f  follower %.2f", "idle statements/s (heartbeat 1s, poll 10s)",
                leaderRate, followerRate));
        long rss = rssKb(leader.pid());
        results.put("leader_rss_mb", rss / 1024);
        Map<String, String> off = Map.of("quarkus.leader.enabled", "false", "quarkus.leader.reports.enabled", "false",
                "quarkus.log.level", "WARN");
        AppInstance disabled = start(off);
        long rssDisabled = rssKb(disabled.pid());
        results.put("disabled_rss_mb", rssDisabled / 1024);
        table.add(String.format("%-44s leader %d  with the election disabled %d", "RSS (MB)", rss / 1024,
                rssDisabled / 1024));
        // heap in use once both have settled, and start-up (launch to first HTTP answer), three of each, alternating
        long heap = leader.heapUsedBytes() / (1024 * 1024);
        long heapDisabled = disabled.heapUsedBytes() / (1024 * 1024);
        results.put("leader_heap_used_mb", heap);
        results.put("disabled_heap_used_mb", heapDisabled);
        table.add(String.format("%-44s leader %d  with the election disabled %d", "heap in use (MB)", heap, heapDisabled));
        List<Long> startup = new ArrayList<>();
        List<Long> startupDisabled = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            for (boolean enabled : new boolean[] { true, false }) {
                AppInstance instance = start(enabled ? CONFIG : off);
                (enabled ? startup : startupDisabled).add(instance.startupMillis());
                instance.stop();
                live.remove(instance);
            }
        }
        long startupMedian = median(startup);
        long startupDisabledMedian = median(startupDisabled);
        results.put("startup_ms", startupMedian);
        results.put("disabled_startup_ms", startupDisabledMedian);
        table.add(String.format("%-44s election on %d  election disabled %d", "start-up, launch to HTTP (ms, median)",
                startupMedian, startupDisabledMedian));
        table.add(String.format("%-44s %d election session + the pool's connections for notify",
                "connections per instance", sessions));
    }

    /**
     * Statements per second that each instance's election session runs while nothing happens: every statement gives
     * its session a new {@code query_start} in pg_stat_activity, sampled every 20 ms (the rates are far lower).
     */
    private static Map<String, Double> statementsPerSecond(List<AppInstance> instances, Duration window) {
        Map<String, Set<Object>> starts = new LinkedHashMap<>();
        instances.forEach(i -> starts.put("leader:" + i.id(), new HashSet<>()));
        PgConnection conn = TestPostgres.connect();
        try {
            long end = System.nanoTime() + window.toNanos();
            while (System.nanoTime() < end) {
                for (Row row : TestPostgres.await(conn.query("SELECT application_name, query_start FROM pg_stat_activity"
                        + " WHERE application_name LIKE 'leader:bench-%' AND datname = current_database()").execute())) {
                    Set<Object> seen = starts.get(row.getString(0));
                    if (seen != null) {
                        seen.add(row.getValue(1));
                    }
                }
                sleepMillis(20);
            }
        } finally {
            conn.close();
        }
        Map<String, Double> rates = new LinkedHashMap<>();
        // the statement running when sampling began is not one of the window's
        starts.forEach((name, seen) -> rates.put(name.substring("leader:".length()),
                Math.max(0, seen.size() - 1) / (double) window.toSeconds()));
        return rates;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static long rssKb(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                    .filter(l -> l.startsWith("VmRSS:")).map(l -> l.replaceAll("\\D", "")).mapToLong(Long::parseLong)
                    .findFirst().orElse(-1);
        } catch (IOException e) {
            return -1;
        }
    }

    // ---- helpers

    private void report() throws IOException {
        Map<String, Object> environment = new LinkedHashMap<>();
        environment.put("cores", Runtime.getRuntime().availableProcessors());
        environment.put("java", System.getProperty("java.version"));
        environment.put("postgresql", TestPostgres.sql("SHOW server_version").get(0).getString(0));
        environment.put("trials", TRIALS);
        environment.put("latency_rate_per_s", LATENCY_RATE);
        results.put("environment", environment);
        Path out = Path.of("target", "bench", "results.json");
        Files.createDirectories(out.getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), results);
        System.out.println();
        System.out.println("[bench] " + environment);
        table.forEach(line -> System.out.println("[bench] " + line));
        System.out.println("[bench] written to " + out.toAbsolutePath());
    }

    private AppInstance start(Map<String, String> config) {
        AppInstance instance = AppInstance.start("bench-" + ids.incrementAndGet(), TestPostgres.url(), lock, config);
        live.add(instance);
        all.add(instance);
        return instance;
    }

    private AppInstance awaitOneLeader() {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                .until(() -> live.stream().filter(AppInstance::isLeader).count() == 1);
        return live.stream().filter(AppInstance::isLeader).findFirst().orElseThrow();
    }

    private AppInstance follower(AppInstance leader) {
        return live.stream().filter(i -> i != leader).findFirst().orElseThrow();
    }

    private static void send(AppInstance sender, int count, int size, int concurrency) {
        send(sender, count, size, concurrency, 0);
    }

    /** With {@code rate} above 0, paced at that many notifications per second; otherwise as fast as they go. */
    private static void send(AppInstance sender, int count, int size, int concurrency, int rate) {
        given().port(sender.port()).queryParam("count", count).queryParam("size", size)
                .queryParam("concurrency", concurrency).queryParam("rate", rate).post("/bench/send").then()
                .statusCode(200);
    }

    private static void reset(AppInstance leader) {
        given().port(leader.port()).post("/bench/reset").then().statusCode(204);
    }

    private static long count(AppInstance leader) {
        return ((Number) stats(leader).get("count")).longValue();
    }

    private static Map<String, Object> stats(AppInstance leader) {
        return given().port(leader.port()).get("/bench/stats").then().statusCode(200).extract().jsonPath().getMap("");
    }

    private static Map<String, Object> awaitReceived(AppInstance leader, int expected) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
                .until(() -> count(leader) >= expected);
        sleepMillis(500); // anything more would be a duplicate
        return stats(leader);
    }

    private static double micros(Map<String, Object> stats, String key) {
        return ((Number) stats.get(key)).longValue() / 1000.0;
    }

    private static Map<String, Object> summary(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("min", sorted.get(0));
        summary.put("median", sorted.get(sorted.size() / 2));
        summary.put("p99", sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(0.99 * sorted.size()) - 1)));
        summary.put("max", sorted.get(sorted.size() - 1));
        return summary;
    }

    private static String row(String name, Map<String, Object> s) {
        return String.format("%-44s min %s  median %s  p99 %s  max %s", name, s.get("min"), s.get("median"), s.get("p99"),
                s.get("max"));
    }

    static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
