package io.quarkiverse.leader.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * The scale harness ({@code ./mvnw -B verify -Pscale -pl integration-tests}): what the work costs as it grows. Takeover
 * and handover with 2, 8 and 24 followers waiting, and the server's CPU under an idle cluster of 24; a leader with 1,
 * 100 and 1,000 channels (time from the lock's grant to leading, latency on one channel while the others carry
 * traffic); connections and idle statements of 10 instances with 1, 3 and 10 elections; notify throughput with 1, 4
 * and 16 senders. Prints a table and writes {@code target/scale.json}. Figures, not assertions: only gross breakage
 * fails it (a lock that passes to more or fewer than one follower, a lost leadership). Every size is a system property
 * (see the constants), so that the harness can be tried small: {@code -Dscale.followers=1,2 -Dscale.trials=2 ...};
 * one part alone with {@code -Dit.test=ScaleIT#channels}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaleIT {

    static final List<Integer> FOLLOWERS = sizes("scale.followers", "2,8,24");
    static final int TRIALS = Integer.getInteger("scale.trials", 5);
    static final int STARTING_AT_ONCE = Integer.getInteger("scale.starting-at-once", 3);
    static final Duration CPU_WINDOW = Duration.ofSeconds(Long.getLong("scale.cpu-window", 60));
    static final List<Integer> CHANNELS = sizes("scale.channels", "1,100,1000");
    static final int GRANT_TRIALS = Integer.getInteger("scale.grant-trials", 10);
    static final Duration LATENCY_WINDOW = Duration.ofSeconds(Long.getLong("scale.latency-window", 10));
    static final int PROBE_RATE = Integer.getInteger("scale.probe-rate", 200);
    static final int NOISE_RATE = Integer.getInteger("scale.noise-rate", 1_000);
    static final int INSTANCES = Integer.getInteger("scale.instances", 10);
    static final List<Integer> ELECTIONS = sizes("scale.elections", "1,3,10");
    static final Duration IDLE_WINDOW = Duration.ofSeconds(Long.getLong("scale.idle-window", 30));
    /** The extension's default poll, which the instances here run with. */
    static final Duration IDLE_POLL = Duration.ofSeconds(10);
    static final List<Integer> SENDERS = sizes("scale.senders", "1,4,16");
    static final int THROUGHPUT_MESSAGES = Integer.getInteger("scale.throughput-messages", 32_000);
    /** The channel sizes and named elections the scale profile's build declares (see integration-tests/pom.xml). */
    static final List<Integer> BUILT_CHANNELS = List.of(1, 100, 1000);
    static final int BUILT_ELECTIONS = 10;
    static final Path OUT = Path.of("target", "scale.json");

    /** Many processes on a small machine: a small heap, one GC thread, and no C2 compiler threads. */
    static final List<String> SMALL_JVM = List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:CICompilerCount=1", "-XX:ReservedCodeCacheSize=32m", "-XX:MaxMetaspaceSize=96m");
    /** The one process whose speed is measured (latency, throughput) gets the full JIT. */
    static final List<String> MEASURED_JVM = List.of("-Xmx64m", "-XX:+UseSerialGC");

    private final List<AppInstance> live = new ArrayList<>();
    private final List<AppInstance> all = new ArrayList<>();
    // one sequence for the whole class: an instance's log and history files are named by its id
    private static final AtomicInteger IDS = new AtomicInteger();
    private final List<String> table = new ArrayList<>();

    @AfterEach
    void stopAll() {
        all.forEach(AppInstance::close);
    }

    // ---- takeover and handover as followers grow; the server's CPU under an idle cluster

    @Test
    @Order(1)
    void takeover() throws IOException {
        Map<String, Object> section = new LinkedHashMap<>();
        section.put("server_cpu_no_instance", serverCpu(Duration.ofSeconds(Math.min(20, CPU_WINDOW.toSeconds()))));
        section.put("sigkill_floor_bare_jvm_ms", summary(sigkillFloor()));
        table.add(row("SIGKILL floor: bare JVM -> waiting session (ms)", section.get("sigkill_floor_bare_jvm_ms")));
        theOneLeaderCheckSeesTwo();
        long lock = TestPostgres.uniqueLock();
        Map<String, String> config = config(Map.of("quarkus.leader.lock", Long.toString(lock)));
        for (int followers : FOLLOWERS) {
            startMany(followers + 1 - live.size(), lock, config);
            Map<String, Object> size = new LinkedHashMap<>();
            size.put("instances", live.size());
            size.put("sigkill_ms", summary(endingTheLeader(lock, config, AppInstance::kill)));
            size.put("graceful_ms", summary(endingTheLeader(lock, config, AppInstance::stop)));
            section.put(followers + "_followers", size);
            table.add(row("takeover after SIGKILL, " + followers + " followers (ms)", size.get("sigkill_ms")));
            table.add(row("handover on graceful stop, " + followers + " followers (ms)", size.get("graceful_ms")));
        }
        int cluster = Collections.max(FOLLOWERS);
        AppInstance leader = awaitOneLeader();
        while (live.size() > cluster) {
            AppInstance follower = live.stream().filter(i -> i != leader).findFirst().orElseThrow();
            follower.stop();
            live.remove(follower);
        }
        Map<String, Object> idle = serverCpu(CPU_WINDOW);
        idle.put("instances", live.size());
        section.put("server_cpu_idle_cluster", idle);
        table.add(String.format("%-52s %s", "server CPU, idle cluster of " + live.size() + " instances", idle));
        table.add(String.format("%-52s %s", "server CPU, no instance", section.get("server_cpu_no_instance")));
        write("takeover", section);
    }

    /**
     * The floor for a takeover after SIGKILL on this machine now: a bare JVM (of the small options) holding a lock on a
     * plain session is killed while this JVM waits for the same lock.
     */
    private static List<Long> sigkillFloor() throws IOException {
        List<Long> floor = new ArrayList<>();
        long lock = TestPostgres.uniqueLock();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
        command.addAll(SMALL_JVM);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BareLockHolder.class.getName(),
                TestPostgres.url(), Long.toString(lock)));
        PgConnection waiter = TestPostgres.connect();
        try {
            for (int t = 0; t < TRIALS; t++) {
                Process holder = new ProcessBuilder(command).redirectErrorStream(true).start();
                try {
                    try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream()))) {
                        String line;
                        while ((line = out.readLine()) != null && !line.equals("locked")) {
                            // start-up output
                        }
                    }
                    Future<?> granted = waiter.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(lock));
                    await().atMost(Duration.ofSeconds(10)).until(() -> waiters(lock) == 1);
                    long t0 = System.nanoTime();
                    holder.destroyForcibly();
                    TestPostgres.await(granted);
                    floor.add((System.nanoTime() - t0) / 1_000_000);
                    TestPostgres.await(waiter.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(lock)));
                } finally {
                    holder.destroyForcibly();
                }
            }
        } finally {
            waiter.close();
        }
        return floor;
    }

    /** Ends the leader TRIALS times, each time starting a follower in its place; the times to the next leader. */
    private List<Long> endingTheLeader(long lock, Map<String, String> config, Consumer<AppInstance> end) {
        List<Long> takeovers = new ArrayList<>();
        for (int t = 0; t < TRIALS; t++) {
            AppInstance leader = awaitOneLeader();
            long t0 = System.currentTimeMillis();
            end.accept(leader);
            live.remove(leader);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10)).until(() -> acquiredSince(t0)
                    .size() > 0);
            takeovers.add(acquiredSince(t0).values().stream().min(Long::compare).orElseThrow() - t0);
            // exactly one follower took the lock, and it stays so
            await().atMost(Duration.ofSeconds(10)).during(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(50))
                    .until(() -> oneNewLeader(t0, lock));
            start(lock, config, SMALL_JVM);
        }
        return takeovers;
    }

    /** The check of every trial: one instance began to lead at or after t0, and one session holds the lock. */
    private boolean oneNewLeader(long t0, long lock) {
        return acquiredSince(t0).size() == 1 && TestPostgres.lockHolders(lock) == 1;
    }

    /**
     * The check can fail: two instances that lead at once (each of its own lock, the only way PostgreSQL allows) are
     * two new leaders to it.
     */
    private void theOneLeaderCheckSeesTwo() {
        long t0 = System.currentTimeMillis();
        long lock = TestPostgres.uniqueLock();
        List<AppInstance> two = List.of(start(lock, config(Map.of("quarkus.leader.lock", Long.toString(lock))),
                SMALL_JVM), start(lock + 1, config(Map.of("quarkus.leader.lock", Long.toString(lock + 1))), SMALL_JVM));
        await().atMost(Duration.ofSeconds(30)).until(() -> acquiredSince(t0).size() == 2);
        assertThat(oneNewLeader(t0, lock)).as("the check, with two leaders").isFalse();
        for (AppInstance instance : two) {
            instance.stop();
            live.remove(instance);
        }
    }

    /** The live instances that recorded taking the lead at or after t0, with the first such moment of each. */
    private Map<String, Long> acquiredSince(long t0) {
        Map<String, Long> acquired = new HashMap<>();
        for (AppInstance instance : live) {
            try {
                for (String line : Files.readAllLines(instance.historyFile())) {
                    String[] parts = line.split(" ");
                    long at = Long.parseLong(parts[1]);
                    if (Boolean.parseBoolean(parts[0]) && at >= t0) {
                        acquired.merge(instance.id(), at, Math::min);
                    }
                }
            } catch (IOException e) {
                // not written yet
            }
        }
        return acquired;
    }

    /** The server's CPU time over a window in which nothing but the instances runs, and its transactions. */
    private static Map<String, Object> serverCpu(Duration window) {
        ServerCounters before = ServerCounters.now();
        sleep(window); // a measuring window, not a wait for a condition
        ServerCounters spent = ServerCounters.now().since(before);
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("window_s", window.toSeconds());
        cpu.put("cpu_ms", spent.cpuMicros() / 1000);
        cpu.put("cpu_percent_of_one_core", round(spent.cpuMicros() / 10_000.0 / window.toSeconds()));
        // less the reading's own transaction (the second reading's is not yet counted by the first)
        cpu.put("transactions_per_s", round((spent.transactions() - 1) / (double) window.toSeconds()));
        return cpu;
    }

    // ---- a leader with 1, 100, 1000 channels

    @Test
    @Order(2)
    void channels() throws Exception {
        Map<String, Object> section = new LinkedHashMap<>();
        for (int channels : CHANNELS) {
            if (!BUILT_CHANNELS.contains(channels)) {
                throw new IllegalArgumentException("the scale build has elections of " + BUILT_CHANNELS
                        + " channels, not " + channels);
            }
            String election = "wide" + channels;
            long lock = TestPostgres.uniqueLock();
            // only the generated election runs: its lock, its channels
            AppInstance leader = start(lock, config(Map.of("quarkus.leader.enabled", "false",
                    "quarkus.leader." + election + ".enabled", "true",
                    "quarkus.leader." + election + ".lock", Long.toString(lock),
                    "quarkus.leader." + election + ".evict-hung-leader", "false")), MEASURED_JVM);
            await().atMost(Duration.ofSeconds(60)).until(() -> leads(leader, election));
            Map<String, Object> size = new LinkedHashMap<>();
            size.put("grant_to_leading_ms", summary(grantToLeading(leader, election, lock)));
            size.put("bare_listen_ms", summary(bareListen(channels)));
            // before the traffic: once every channel has its meters, the metrics page is too slow for a 1 s read
            size.put("leader_heap_used_mb", leader.heapUsedBytes() / (1024 * 1024));
            size.put("latency_under_traffic", latencyUnderTraffic(leader, election, channels));
            size.put("metrics_scrape_ms", scrapeMillis(leader));
            section.put(channels + "_channels", size);
            table.add(row("lock granted -> leading, " + channels + " channels (ms)", size.get("grant_to_leading_ms")));
            table.add(row("bare session: " + channels + " LISTENs in one query (ms)", size.get("bare_listen_ms")));
            table.add(String.format("%-52s %s", "probe channel latency, " + channels + " channels", size.get(
                    "latency_under_traffic")));
            table.add(String.format("%-52s %s", "leader heap after full GC, " + channels + " channels (MB)", size.get(
                    "leader_heap_used_mb")));
            table.add(String.format("%-52s %s", "/q/metrics after traffic on all, " + channels + " channels (ms)",
                    size.get("metrics_scrape_ms")));
            leader.stop();
            live.remove(leader);
        }
        write("channels", section);
    }

    /**
     * GRANT_TRIALS times: this test takes the election's lock while the leader's session is terminated, waits until the
     * instance waits for the lock again, then unlocks; from the unlock to the moment the instance leads.
     */
    private List<Long> grantToLeading(AppInstance instance, String election, long lock) {
        List<Long> times = new ArrayList<>();
        for (int t = 0; t < GRANT_TRIALS; t++) {
            PgConnection holder = TestPostgres.connect();
            try {
                Future<?> granted = holder.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(lock));
                int lost = lastTransition(instance, election).size();
                TestPostgres.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1"
                        + " AND datname = current_database()", "leader/" + election + ":" + instance.id());
                TestPostgres.await(granted);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                        .until(() -> lastTransition(instance, election).size() > lost && waiters(lock) == 1);
                long t0 = System.currentTimeMillis();
                TestPostgres.await(holder.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(lock)));
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(() -> leads(instance,
                        election));
                List<Map<String, Object>> transitions = lastTransition(instance, election);
                times.add(((Number) transitions.get(transitions.size() - 1).get("epochMillis")).longValue() - t0);
            } finally {
                holder.close();
            }
        }
        return times;
    }

    private static List<Map<String, Object>> lastTransition(AppInstance instance, String election) {
        return given().port(instance.port()).get("/scale/leadership/" + election).then().statusCode(200).extract()
                .jsonPath().getList("");
    }

    private static boolean leads(AppInstance instance, String election) {
        List<Map<String, Object>> transitions = lastTransition(instance, election);
        return !transitions.isEmpty() && Boolean.TRUE.equals(transitions.get(transitions.size() - 1).get("leader"));
    }

    /** Sessions waiting for the lock {@code key} in the test database. */
    private static long waiters(long key) {
        return TestPostgres.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                + " AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " AND ((classid::bigint << 32) | objid::bigint) = $1", key).get(0).getLong(0);
    }

    /** The floor: a plain session of this JVM runs the same LISTENs in one simple query. */
    private static List<Long> bareListen(int channels) {
        String sql = IntStream.range(0, channels).mapToObj(c -> "LISTEN scale_bare_" + c)
                .collect(Collectors.joining("; "));
        List<Long> times = new ArrayList<>();
        for (int t = 0; t < GRANT_TRIALS; t++) {
            PgConnection conn = TestPostgres.connect();
            try {
                long start = System.nanoTime();
                TestPostgres.await(conn.query(sql).execute());
                times.add((System.nanoTime() - start) / 1_000_000);
            } finally {
                conn.close();
            }
        }
        return times;
    }

    /** PROBE_RATE notifications per second on the probe channel while NOISE_RATE per second go to the others. */
    private static Map<String, Object> latencyUnderTraffic(AppInstance leader, String election, int channels)
            throws Exception {
        String probe = "SELECT pg_notify('" + election + "_0', '{\"sentMicros\":' || (extract(epoch FROM"
                + " clock_timestamp()) * 1000000)::bigint || ',\"seq\":0}');\n";
        // the same traffic for every size: on the other channels, or with one channel beside the probe on its own
        String noise = channels > 1
                ? "SELECT pg_notify('" + election + "_' || (1 + floor(random() * " + (channels - 1) + "))::int,"
                        + " 'noise');\n"
                : "SELECT pg_notify('" + election + "_0', 'noise');\n";
        // warm-up: every channel once (its first notification registers its meters), then the load itself
        if (channels > 1) {
            TestPostgres.sql("SELECT count(pg_notify('" + election + "_' || i, 'noise')) FROM generate_series(1, $1) i",
                    channels - 1);
            await().atMost(Duration.ofSeconds(60)).until(() -> ((Number) scaleStats(leader).get("traffic"))
                    .longValue() >= channels - 1);
        }
        CompletableFuture<Double> warmNoise = CompletableFuture.supplyAsync(() -> pgbench(noise, 2, NOISE_RATE,
                Duration.ofSeconds(3)));
        pgbench(probe, 1, PROBE_RATE, Duration.ofSeconds(3));
        warmNoise.get();
        given().port(leader.port()).post("/scale/reset").then().statusCode(204);
        ProcessCounters leaderBefore = ProcessCounters.of(leader.pid());
        ServerCounters serverBefore = ServerCounters.now();
        long started = System.nanoTime();
        CompletableFuture<Double> noiseRun = CompletableFuture.supplyAsync(() -> pgbench(noise, 2, NOISE_RATE,
                LATENCY_WINDOW));
        double probeRate = pgbench(probe, 1, PROBE_RATE, LATENCY_WINDOW);
        double noiseRate = noiseRun.get();
        long micros = (System.nanoTime() - started) / 1000;
        long leaderCpu = ProcessCounters.of(leader.pid()).since(leaderBefore).cpuMicros();
        long serverCpu = ServerCounters.now().since(serverBefore).cpuMicros();
        Map<String, Object> stats = scaleStats(leader);
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("probe_per_s", Math.round(probeRate));
        latency.put("noise_per_s", Math.round(noiseRate));
        latency.put("probe_received", stats.get("count"));
        latency.put("noise_received", stats.get("traffic"));
        latency.put("p50_ms", ((Number) stats.get("p50Micros")).longValue() / 1000.0);
        latency.put("p99_ms", ((Number) stats.get("p99Micros")).longValue() / 1000.0);
        latency.put("leader_cpu_percent", round(leaderCpu * 100.0 / micros));
        latency.put("server_cpu_percent", round(serverCpu * 100.0 / micros));
        return latency;
    }

    /** How long the leader's /q/metrics takes to answer once every channel has had traffic (and so its meters). */
    private static long scrapeMillis(AppInstance leader) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + leader.port() + "/q/metrics"))
                .timeout(Duration.ofSeconds(60)).build();
        long start = System.nanoTime();
        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static Map<String, Object> scaleStats(AppInstance leader) {
        return given().port(leader.port()).get("/scale/stats").then().statusCode(200).extract().jsonPath().getMap("");
    }

    private static double pgbench(String script, int clients, int rate, Duration duration) {
        try {
            return Pgbench.tps(script, clients, rate, duration);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // ---- connections and idle statements of INSTANCES instances with 1, 3, 10 elections

    @Test
    @Order(3)
    void elections() throws IOException {
        Map<String, Object> section = new LinkedHashMap<>();
        int largest = Collections.max(ELECTIONS);
        // each size with the defaults, then the largest again without the followers' check for a hung leader
        List<Integer> runs = new ArrayList<>(ELECTIONS);
        runs.add(-largest);
        for (int run : runs) {
            int elections = Math.abs(run);
            boolean evict = run > 0;
            if (elections > BUILT_ELECTIONS) {
                throw new IllegalArgumentException("the scale build has " + BUILT_ELECTIONS + " elections");
            }
            List<Long> locks = IntStream.range(0, elections).mapToObj(e -> TestPostgres.uniqueLock()).toList();
            Map<String, String> settings = new HashMap<>(Map.of("quarkus.leader.lock", Long.toString(locks.get(0)),
                    "quarkus.leader.evict-hung-leader", Boolean.toString(evict)));
            for (int e = 2; e <= elections; e++) {
                settings.put("quarkus.leader.e" + e + ".enabled", "true");
                settings.put("quarkus.leader.e" + e + ".lock", Long.toString(locks.get(e - 1)));
                settings.put("quarkus.leader.e" + e + ".evict-hung-leader", Boolean.toString(evict));
            }
            Map<String, String> config = config(settings);
            for (int i = 0; i < INSTANCES; i++) {
                start(locks.get(0), config, SMALL_JVM);
            }
            // every election has its leader and all the others wait
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> locks.stream().allMatch(l -> TestPostgres.lockHolders(l) == 1 && waiters(l) == INSTANCES - 1));
            Map<String, Object> size = idleStatements(locks);
            String name = elections + "_elections" + (evict ? "" : "_evict_hung_leader_off");
            section.put(name, size);
            table.add(String.format("%-52s %s", INSTANCES + " instances x " + elections + " elections" + (evict ? ""
                    : ", evict-hung-leader=false"), size));
            for (AppInstance instance : new ArrayList<>(live)) {
                instance.stop();
                live.remove(instance);
            }
        }
        section.put("poll_s", IDLE_POLL.toSeconds());
        write("elections", section);
    }

    /**
     * Over IDLE_WINDOW: the sessions of the test database, and the statements each ran, from pg_stat_activity sampled
     * every 50 ms (a statement gives its session a new query_start; the rates are far below the sampling's), beside the
     * database's transactions from pg_stat_database.
     */
    private Map<String, Object> idleStatements(List<Long> locks) {
        Set<Integer> leaders = new HashSet<>();
        for (long lock : locks) {
            leaders.addAll(TestPostgres.sql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    + " AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1", lock).stream()
                    .map(r -> r.getInteger(0)).toList());
        }
        Map<Integer, String> names = new HashMap<>();
        Map<Integer, Set<Object>> starts = new HashMap<>();
        ServerCounters before = ServerCounters.now();
        long samples = 0;
        PgConnection conn = TestPostgres.connect();
        try {
            long end = System.nanoTime() + IDLE_WINDOW.toNanos();
            while (System.nanoTime() < end) {
                for (Row row : TestPostgres.await(conn.query("SELECT pid, coalesce(application_name, ''), query_start"
                        + " FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()").execute())) {
                    names.put(row.getInteger(0), row.getString(1));
                    starts.computeIfAbsent(row.getInteger(0), p -> new HashSet<>()).add(row.getValue(2));
                }
                samples++;
                sleep(Duration.ofMillis(50));
            }
        } finally {
            conn.close();
        }
        ServerCounters spent = ServerCounters.now().since(before);
        double seconds = IDLE_WINDOW.toSeconds();
        long leaderStatements = 0;
        long followerStatements = 0;
        long otherStatements = 0;
        long electionSessions = 0;
        List<Long> perFollower = new ArrayList<>();
        for (Map.Entry<Integer, Set<Object>> session : starts.entrySet()) {
            long statements = Math.max(0, session.getValue().size() - 1); // the one running as sampling began
            if (!names.get(session.getKey()).startsWith("leader")) {
                otherStatements += statements;
            } else if (leaders.contains(session.getKey())) {
                electionSessions++;
                leaderStatements += statements;
            } else {
                electionSessions++;
                followerStatements += statements;
                perFollower.add(statements);
            }
        }
        int elections = locks.size();
        long followerSessions = electionSessions - elections;
        Map<String, Object> size = new LinkedHashMap<>();
        size.put("instances", live.size());
        size.put("server_connections", starts.size());
        size.put("election_sessions", electionSessions);
        size.put("other_connections", starts.size() - electionSessions);
        size.put("other_connection_names", names.entrySet().stream().filter(n -> !n.getValue().startsWith("leader"))
                .map(Map.Entry::getValue).collect(Collectors.groupingBy(n -> n, Collectors.counting())));
        size.put("leader_session_statements_per_s", round(leaderStatements / seconds / elections));
        size.put("follower_session_statements_per_s", round(followerStatements / seconds
                / Math.max(1, followerSessions)));
        // each follower's own, per poll: the goal is one, the first in line of each election looking more often
        Collections.sort(perFollower);
        double polls = seconds / IDLE_POLL.toSeconds();
        size.put("follower_session_statements_per_poll_median", perFollower.isEmpty() ? 0
                : round(perFollower.get(perFollower.size() / 2) / polls));
        size.put("follower_session_statements_per_poll_max", perFollower.isEmpty() ? 0
                : round(perFollower.get(perFollower.size() - 1) / polls));
        size.put("other_statements_per_s", round(otherStatements / seconds));
        // every sample and both readings are transactions of their own
        size.put("database_transactions_per_s", round((spent.transactions() - samples - 1) / seconds));
        size.put("server_cpu_percent_of_one_core", round(spent.cpuMicros() / 10_000.0 / seconds));
        return size;
    }

    // ---- notify throughput with 1, 4, 16 senders

    @Test
    @Order(4)
    void throughput() throws Exception {
        Map<String, Object> section = new LinkedHashMap<>();
        long lock = TestPostgres.uniqueLock();
        // a mailbox that holds a whole run: its default bound (10,000) drops the oldest of a burst the method lags behind
        AppInstance leader = start(lock, config(Map.of("quarkus.leader.lock", Long.toString(lock),
                "quarkus.leader.delivery.channels.bench.queue-size", Integer.toString(THROUGHPUT_MESSAGES))),
                MEASURED_JVM);
        await().atMost(Duration.ofSeconds(60)).until(leader::isLeader);
        sendToLeader(leader, 4, THROUGHPUT_MESSAGES / 4); // warm-up
        for (int senders : SENDERS) {
            Map<String, Object> size = new LinkedHashMap<>();
            size.put("leader", sendToLeader(leader, senders, THROUGHPUT_MESSAGES));
            size.put("bare_listener", sendToBareListener(senders, THROUGHPUT_MESSAGES));
            section.put(senders + "_senders", size);
            table.add(String.format("%-52s %s", "pgbench " + senders + " senders -> leader", size.get("leader")));
            table.add(String.format("%-52s %s", "pgbench " + senders + " senders -> bare LISTEN", size.get(
                    "bare_listener")));
        }
        write("throughput", section);
    }

    /** pgbench clients send {@code total} notifications on the sample's {@code bench} channel; the leader counts. */
    private static Map<String, Object> sendToLeader(AppInstance leader, int senders, int total) throws Exception {
        given().port(leader.port()).post("/bench/reset").then().statusCode(204);
        ProcessCounters leaderBefore = ProcessCounters.of(leader.pid());
        ServerCounters serverBefore = ServerCounters.now();
        long start = BenchmarkProbe.nowMicros();
        int each = total / senders;
        assertThat(pgbench("bench", senders, each)).as("pgbench ran").isTrue();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> ((Number) given()
                .port(leader.port()).get("/bench/stats").then().extract().jsonPath().getMap("").get("count"))
                .longValue() >= (long) each * senders);
        Map<String, Object> stats = given().port(leader.port()).get("/bench/stats").then().statusCode(200).extract()
                .jsonPath().getMap("");
        long micros = ((Number) stats.get("lastMicros")).longValue() - start;
        return rate(each * senders, micros, ProcessCounters.of(leader.pid()).since(leaderBefore).cpuMicros(),
                ServerCounters.now().since(serverBefore).cpuMicros());
    }

    /** The same load to a plain session of this JVM that LISTENs and counts: PostgreSQL's own ceiling here. */
    private static Map<String, Object> sendToBareListener(int senders, int total) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            PgConnection listener = TestPostgres.await(PgConnection.connect(vertx, PgConnectOptions.fromUri(TestPostgres
                    .url())));
            AtomicInteger received = new AtomicInteger();
            AtomicLong last = new AtomicLong();
            listener.notificationHandler(n -> {
                received.incrementAndGet();
                last.set(BenchmarkProbe.nowMicros());
            });
            TestPostgres.await(listener.query("LISTEN scale_raw").execute());
            ProcessCounters selfBefore = ProcessCounters.of(ProcessHandle.current().pid());
            ServerCounters serverBefore = ServerCounters.now();
            int each = total / senders;
            long start = BenchmarkProbe.nowMicros();
            assertThat(pgbench("scale_raw", senders, each)).as("pgbench ran").isTrue();
            await().atMost(Duration.ofSeconds(120)).until(() -> received.get() >= each * senders);
            Map<String, Object> rate = rate(each * senders, last.get() - start, ProcessCounters.of(ProcessHandle
                    .current().pid()).since(selfBefore).cpuMicros(), ServerCounters.now().since(serverBefore)
                            .cpuMicros());
            listener.close();
            return rate;
        } finally {
            vertx.close();
        }
    }

    private static Map<String, Object> rate(long messages, long micros, long listenerCpuMicros, long serverCpuMicros) {
        Map<String, Object> rate = new LinkedHashMap<>();
        rate.put("per_s", Math.round(messages * 1e6 / micros));
        // shares of one core over the run: two cores in all, and pgbench's own share is the rest
        rate.put("listener_cpu_percent", round(listenerCpuMicros * 100.0 / micros));
        rate.put("server_cpu_percent", round(serverCpuMicros * 100.0 / micros));
        return rate;
    }

    /** pgbench clients each send {@code each} notifications on {@code channel}, with the probe's payload shape. */
    private static boolean pgbench(String channel, int clients, int each) throws Exception {
        File script = File.createTempFile("notify", ".sql");
        Files.writeString(script.toPath(), "SELECT pg_notify('" + channel + "', '{\"sentMicros\":' || (extract(epoch"
                + " FROM clock_timestamp()) * 1000000)::bigint || ',\"seq\":0,\"pad\":\"xxxxxxxxxxxxxxxx\"}');\n");
        try {
            URI db = URI.create(TestPostgres.url());
            String user = db.getUserInfo() == null ? "postgres" : db.getUserInfo().split(":")[0];
            Process run = new ProcessBuilder(Pgbench.PGBENCH.toString(), "-n", "-M", "prepared", "-c",
                    Integer.toString(clients), "-j", Integer.toString(Math.min(clients, 2)), "-t",
                    Integer.toString(each), "-f", script.toString(), "-h", db.getHost(), "-p",
                    Integer.toString(db.getPort()), "-U", user, db.getPath().substring(1)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!run.waitFor(180, TimeUnit.SECONDS) || run.exitValue() != 0) {
                run.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                return false;
            }
            return true;
        } finally {
            Files.delete(script.toPath());
        }
    }

    // ---- helpers

    /**
     * The extension's default timings, one election (the sample's named one and the scale build's off) and quiet logs,
     * with {@code settings} on top.
     */
    private static Map<String, String> config(Map<String, String> settings) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("quarkus.leader.heartbeat", "1s");
        config.put("quarkus.leader.lease", "5s");
        config.put("quarkus.leader.poll", "10s");
        config.put("quarkus.leader.reports.enabled", "false");
        config.put("quarkus.log.level", "WARN");
        for (int channels : BUILT_CHANNELS) {
            config.put("quarkus.leader.wide" + channels + ".enabled", "false");
        }
        for (int e = 2; e <= BUILT_ELECTIONS; e++) {
            config.put("quarkus.leader.e" + e + ".enabled", "false");
        }
        config.putAll(settings);
        return config;
    }

    private AppInstance start(long lock, Map<String, String> config, List<String> jvm) {
        AppInstance instance = AppInstance.start("scale-" + IDS.incrementAndGet(), TestPostgres.url(), lock, config,
                jvm);
        live.add(instance);
        all.add(instance);
        return instance;
    }

    /** Starts {@code count} instances, a few at a time: two dozen one by one take minutes on a busy machine. */
    private void startMany(int count, long lock, Map<String, String> config) {
        for (int started = 0; started < count; started += STARTING_AT_ONCE) {
            List<CompletableFuture<AppInstance>> batch = new ArrayList<>();
            for (int i = started; i < Math.min(count, started + STARTING_AT_ONCE); i++) {
                String id = "scale-" + IDS.incrementAndGet();
                batch.add(CompletableFuture.supplyAsync(() -> AppInstance.start(id, TestPostgres.url(), lock, config,
                        SMALL_JVM)));
            }
            // every instance that did start is kept, to be stopped, before a failed start is thrown
            CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
            for (CompletableFuture<AppInstance> starting : batch) {
                if (!starting.isCompletedExceptionally()) {
                    live.add(starting.join());
                    all.add(starting.join());
                }
            }
            batch.forEach(CompletableFuture::join);
        }
    }

    private AppInstance awaitOneLeader() {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(() -> live.stream().filter(AppInstance::isLeader).count() == 1);
        return live.stream().filter(AppInstance::isLeader).findFirst().orElseThrow();
    }

    /** Adds this part's figures to target/scale.json (keeping the other parts') and prints the table. */
    private void write(String part, Map<String, Object> section) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Map<String, Object> results = new LinkedHashMap<>();
        if (Files.exists(OUT)) {
            results.putAll(json.readValue(OUT.toFile(), Map.class));
        }
        Map<String, Object> environment = new LinkedHashMap<>();
        environment.put("cores", Runtime.getRuntime().availableProcessors());
        environment.put("load_average", Files.readString(Path.of("/proc/loadavg")).trim());
        environment.put("java", System.getProperty("java.version"));
        environment.put("postgresql", TestPostgres.sql("SHOW server_version").get(0).getString(0));
        environment.put("small_jvm", SMALL_JVM);
        section.put("environment", environment);
        results.put(part, section);
        Files.createDirectories(OUT.getParent());
        json.writeValue(OUT.toFile(), results);
        System.out.println();
        System.out.println("[scale] " + part + ": " + environment);
        table.forEach(line -> System.out.println("[scale] " + line));
        System.out.println("[scale] written to " + OUT.toAbsolutePath());
    }

    private static List<Integer> sizes(String property, String defaults) {
        return Arrays.stream(System.getProperty(property, defaults).split(",")).map(String::trim).map(Integer::valueOf)
                .toList();
    }

    private static Map<String, Object> summary(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("min", sorted.get(0));
        summary.put("median", sorted.get(sorted.size() / 2));
        summary.put("max", sorted.get(sorted.size() - 1));
        summary.put("all", values);
        return summary;
    }

    private static String row(String name, Object summary) {
        Map<?, ?> s = (Map<?, ?>) summary;
        return String.format("%-52s min %s  median %s  max %s", name, s.get("min"), s.get("median"), s.get("max"));
    }

    static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
