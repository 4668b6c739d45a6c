package io.quarkiverse.leader.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

import io.quarkiverse.leader.runtime.MessageTable;
import io.quarkiverse.leader.test.TestPostgres;

/**
 * The durable channels' figures ({@code BenchIT#durable}), each beside a pgbench baseline of the same run on the same
 * database: latency from {@code send} to the method, the drain of a backlog, exactly-once throughput, {@code send}
 * throughput, what an idle durable channel costs PostgreSQL, and the message table afterwards.
 */
final class DurableBenchmark {

    static final String AT_LEAST_ONCE = DurableBenchmarkProbe.AT_LEAST_ONCE;
    static final String EXACTLY_ONCE = DurableBenchmarkProbe.EXACTLY_ONCE;
    static final String EXACTLY_ONCE_UNORDERED = DurableBenchmarkProbe.EXACTLY_ONCE_UNORDERED;
    /** A channel no method declares: its messages stay in the table, so that a send run measures sending alone. */
    static final String UNHANDLED = "bench_unhandled";
    static final String MESSAGES = MessageTable.DEFAULT_TABLE;
    /** The sample's wake-up channel, the default one. */
    static final String WAKEUP_CHANNEL = "quarkus_leader_wakeup";

    static final Duration PGBENCH_DURATION = Duration.ofSeconds(Integer.getInteger("bench.pgbench-seconds", 8));
    static final int BACKLOG = Integer.getInteger("bench.durable-backlog", 20_000);
    static final int EXACTLY_ONCE_MESSAGES = Integer.getInteger("bench.exactly-once-messages", 10_000);
    // the JIT's: a first run of 500 went at half the rate of the runs after it
    static final int EXACTLY_ONCE_WARMUP = 5_000;
    static final int SEND_MESSAGES = Integer.getInteger("bench.send-messages", 20_000);
    static final int SENDERS = 4;
    static final Duration IDLE_WINDOW = Duration.ofSeconds(Integer.getInteger("bench.idle-seconds", 30));

    /** A table shaped like the message table (same columns, defaults, indexes and send function), for pgbench. */
    static final MessageTable PGBENCH_TABLE = new MessageTable(Optional.empty(), "bench_pgbench_message",
            "bench_pgbench_send", "bench_pgbench_wakeup", true, true, "", "");
    static final Pattern BACKLOG_KEY = Pattern.compile("\"durable\\.[^\"]+\\.backlog\"");
    static final String PAYLOAD = "{\"sentMicros\":0,\"seq\":0,\"pad\":\"\"}";
    static final String INSERT_DELETE = "BEGIN;\n"
            + "INSERT INTO bench_pgbench_message (channel, payload) VALUES ('pgbench', '" + PAYLOAD + "') RETURNING id \\gset\n"
            + "DELETE FROM bench_pgbench_message WHERE id = :id;\n"
            + "END;\n";
    static final String INSERT = "INSERT INTO bench_pgbench_message (channel, payload) VALUES ('pgbench', '" + PAYLOAD
            + "');\n";
    // what send runs: the insert and the wake-up's pg_notify, whose commits serialise on the notification lock
    static final String SEND_FUNCTION = "SELECT bench_pgbench_send('pgbench', '" + PAYLOAD + "');\n";
    static final String BARE_INSERT = "INSERT INTO bench_pgbench_message (channel, payload) VALUES ($1, $2)";
    static final String BARE_SEND_FUNCTION = "SELECT bench_pgbench_send($1, $2)";

    private final Function<Map<String, String>, AppInstance> starter;
    private final Map<String, String> config;
    private final Map<String, Object> results = new LinkedHashMap<>();
    private final List<String> table = new ArrayList<>();
    private int durableChannels;

    DurableBenchmark(Function<Map<String, String>, AppInstance> starter, Map<String, String> config) {
        this.starter = starter;
        this.config = config;
    }

    Map<String, Object> results() {
        return results;
    }

    List<String> table() {
        return table;
    }

    void run() throws Exception {
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS bench_effect (payload text NOT NULL)");
        TestPostgres.sql("TRUNCATE bench_effect");
        Map<String, Double> baselines = baselines("before");
        results.put("pgbench", baselines);
        AppInstance leader = starter.apply(config);
        await().atMost(Duration.ofSeconds(30)).until(leader::isLeader);
        AppInstance follower = starter.apply(config);
        latency(leader, follower, "latency_fetched_ms", null); // the default: every message fetched
        leader.stop();
        follower.stop();
        // the function is created to match wakeup-payload when missing, never replaced
        TestPostgres.sql("DROP FUNCTION " + MessageTable.DEFAULT_FUNCTION + "(text, text)");
        Map<String, String> handOver = new LinkedHashMap<>(config);
        handOver.put("quarkus.leader.durable.wakeup-payload", "true");
        leader = starter.apply(handOver);
        await().atMost(Duration.ofSeconds(30)).until(leader::isLeader);
        follower = starter.apply(handOver);
        try (BareListenerProcess bare = new BareListenerProcess(WAKEUP_CHANNEL)) {
            latency(leader, follower, "latency_ms", bare);
        }
        exactlyOnce(leader, baselines.get("insert_delete_1_client_tps"), baselines.get("insert_delete_4_clients_tps"));
        drainWhileLeading(leader, baselines.get("insert_delete_4_clients_tps"));
        send(follower, baselines);
        leader.stop();
        follower.stop();
        drainAtStart(baselines.get("insert_delete_4_clients_tps"));
        idleCost();
        messageTable();
        // the machine's load moves every figure: the same baselines again, at the end
        results.put("pgbench_after", baselines("after"));
    }

    // ---- pgbench baselines

    private Map<String, Double> baselines(String when) throws Exception {
        TestPostgres.sql("DROP FUNCTION IF EXISTS " + PGBENCH_TABLE.qualifiedFunction() + "(text, text)");
        TestPostgres.sql("DROP TABLE IF EXISTS " + PGBENCH_TABLE.qualifiedName());
        for (String statement : PGBENCH_TABLE.ddl().split(";\n(?=CREATE)")) {
            TestPostgres.sql(statement);
        }
        Map<String, Double> baselines = new LinkedHashMap<>();
        baselines.put("insert_delete_1_client_tps", pgbench(INSERT_DELETE, 1));
        baselines.put("insert_delete_4_clients_tps", pgbench(INSERT_DELETE, 4));
        baselines.put("insert_4_clients_tps", pgbench(INSERT, 4));
        baselines.put("send_function_4_clients_tps", pgbench(SEND_FUNCTION, 4));
        // the same statements from a bare Vert.x pool in this JVM: the client's own cost, without the extension
        baselines.put("bare_client_insert_4_in_flight_per_s", bare(BARE_INSERT));
        baselines.put("bare_client_send_function_4_in_flight_per_s", bare(BARE_SEND_FUNCTION));
        TestPostgres.sql("DROP FUNCTION " + PGBENCH_TABLE.qualifiedFunction() + "(text, text)");
        TestPostgres.sql("DROP TABLE " + PGBENCH_TABLE.qualifiedName());
        table.add(String.format("%-44s insert+delete 1 client %.0f  4 clients %.0f  insert 4 clients %.0f",
                "pgbench -M prepared, " + PGBENCH_DURATION.toSeconds() + " s, " + when + " (tx/s)",
                baselines.get("insert_delete_1_client_tps"), baselines.get("insert_delete_4_clients_tps"),
                baselines.get("insert_4_clients_tps")));
        table.add(String.format("%-44s %.0f", "pgbench send function, 4 clients, " + when + " (tx/s)",
                baselines.get("send_function_4_clients_tps")));
        table.add(String.format("%-44s insert %.0f  send function %.0f", "bare Vert.x pool, a statement per message, "
                + SENDERS + " in flight, " + when + " (msg/s)", baselines.get("bare_client_insert_4_in_flight_per_s"),
                baselines.get("bare_client_send_function_4_in_flight_per_s")));
        return baselines;
    }

    private static double bare(String sql) {
        double rate = BareSends.rate(TestPostgres.url(), sql, PAYLOAD, SEND_MESSAGES, SENDERS, 3,
                () -> TestPostgres.sql("TRUNCATE " + PGBENCH_TABLE.qualifiedName()));
        TestPostgres.sql("TRUNCATE " + PGBENCH_TABLE.qualifiedName());
        return rate;
    }

    private static double pgbench(String script, int clients) throws Exception {
        double tps = Pgbench.tps(script, clients, PGBENCH_DURATION);
        // the rows the insert-only runs leave are not the next run's problem
        TestPostgres.sql("TRUNCATE " + PGBENCH_TABLE.qualifiedName());
        return tps;
    }

    // ---- latency

    /**
     * From the sender's clock just before {@code send} to the start of the leader's method, paced, into
     * {@code results[key]}; with {@code bare} (when the wake-ups carry the messages), beside it the floor of that path:
     * a bare JVM LISTENing on the wake-up channel times the same messages' wake-ups.
     */
    private void latency(AppInstance leader, AppInstance follower, String key, BareListenerProcess bare)
            throws IOException {
        // warm-up: a 200/s run after 2,000 messages had the JIT's compilations in it (the leader's CPU per message
        // five times that of the 1,000/s run after it)
        sendAndAwait(leader, follower, AT_LEAST_ONCE, 10_000, 1_000);
        Map<String, Object> latency = new LinkedHashMap<>();
        for (int[] run : new int[][] { { 200, Integer.getInteger("bench.durable-latency-200", 4_000) },
                { 1_000, Integer.getInteger("bench.durable-latency-1000", 10_000) } }) {
            if (bare != null) {
                bare.reset();
            }
            latencyRun(leader, follower, run[0], run[1], latency, bare);
        }
        results.put(key, latency);
    }

    private void latencyRun(AppInstance leader, AppInstance follower, int rate, int messages,
            Map<String, Object> latency, BareListenerProcess bare) throws IOException {
        ProcessCounters before = ProcessCounters.of(leader.pid());
        Map<String, Object> stats = sendAndAwait(leader, follower, AT_LEAST_ONCE, messages, rate);
        ProcessCounters used = ProcessCounters.of(leader.pid()).since(before);
        Map<String, Object> ms = new LinkedHashMap<>();
        ms.put("messages", messages);
        ms.put("p50", micros(stats, "p50Micros"));
        ms.put("p99", micros(stats, "p99Micros"));
        ms.put("p999", micros(stats, "p999Micros"));
        ms.putAll(perMessage(used, messages));
        latency.put("at_" + rate + "_per_s", ms);
        String path = bare != null ? "handed over" : "fetched";
        table.add(String.format("%-44s p50 %.3f  p99 %.3f  p99.9 %.3f", "send -> durable method, " + path + ", " + rate
                + "/s (ms)", ms.get("p50"), ms.get("p99"), ms.get("p999")));
        table.add(perMessageRow(used, messages));
        if (bare != null) {
            Map<String, Object> floor = bare.stats(messages);
            ms.put("bare_listen_wakeup", floor);
            ms.put("p50_ratio_to_bare", (double) ms.get("p50") / (double) floor.get("p50"));
            table.add(String.format("%-44s p50 %.3f  p99 %.3f  p99.9 %.3f  (method's p50 %.2fx)", "send -> bare"
                    + " LISTEN JVM, wake-up, " + rate + "/s (ms)", floor.get("p50"), floor.get("p99"), floor.get("p999"),
                    ms.get("p50_ratio_to_bare")));
        }
    }

    /** The follower sends {@code count} messages at {@code rate}, 8 in flight at most; the leader's probe's stats. */
    private static Map<String, Object> sendAndAwait(AppInstance leader, AppInstance sender, String channel, int count,
            int rate) {
        reset(leader, channel);
        send(sender, channel, count, 8, rate);
        return awaitHandled(leader, channel, count);
    }

    // ---- throughput

    /**
     * A backlog committed at once while a warm leader leads, on the method that takes the connection: ordered (one
     * transaction at a time), then with {@code ordered = false}.
     */
    private void exactlyOnce(AppInstance leader, double oneClient, double fourClients) {
        Map<String, Object> once = new LinkedHashMap<>();
        for (String channel : List.of(EXACTLY_ONCE, EXACTLY_ONCE_UNORDERED)) {
            boolean ordered = channel.equals(EXACTLY_ONCE);
            double baseline = ordered ? oneClient : fourClients;
            store(channel, EXACTLY_ONCE_WARMUP);
            awaitHandled(leader, channel, EXACTLY_ONCE_WARMUP);
            TestPostgres.sql("TRUNCATE bench_effect");
            reset(leader, channel);
            long commitsBefore = commits();
            ProcessCounters before = ProcessCounters.of(leader.pid());
            store(channel, EXACTLY_ONCE_MESSAGES);
            Map<String, Object> stats = awaitHandled(leader, channel, EXACTLY_ONCE_MESSAGES);
            ProcessCounters used = ProcessCounters.of(leader.pid()).since(before);
            double commitsPerMessage = (commits() - commitsBefore) / (double) EXACTLY_ONCE_MESSAGES;
            double rate = rate(stats);
            long effects = TestPostgres.sql("SELECT count(*) FROM bench_effect").get(0).getLong(0);
            long distinct = TestPostgres.sql("SELECT count(DISTINCT payload) FROM bench_effect").get(0).getLong(0);
            Map<String, Object> run = new LinkedHashMap<>();
            run.put("messages", EXACTLY_ONCE_MESSAGES);
            run.put("per_s", Math.round(rate));
            run.put(ordered ? "ratio_to_insert_delete_1_client" : "ratio_to_insert_delete_4_clients",
                    ratio(rate, baseline));
            run.put("effects", effects);
            run.put("database_commits_per_message", BenchIT.round(commitsPerMessage));
            run.putAll(perMessage(used, EXACTLY_ONCE_MESSAGES));
            once.put(ordered ? "ordered" : "unordered", run);
            table.add(String.format("%-44s %.0f  ratio to pgbench insert+delete, %s %.2f  effects %d",
                    "exactly once, " + (ordered ? "ordered" : "ordered = false") + " (msg/s)", rate,
                    ordered ? "1 client" : "4 clients", ratio(rate, baseline), effects));
            table.add(perMessageRow(used, EXACTLY_ONCE_MESSAGES));
            // gross breakage only: each message's effect once, no more, no less
            assertThat(effects).isEqualTo(EXACTLY_ONCE_MESSAGES);
            assertThat(distinct).isEqualTo(EXACTLY_ONCE_MESSAGES);
        }
        results.put("exactly_once", once);
    }

    /** A backlog committed in one transaction while a warm leader leads: its statements were prepared on an empty table. */
    private void drainWhileLeading(AppInstance leader, double baseline) {
        store(AT_LEAST_ONCE, BACKLOG); // warm-up
        awaitHandled(leader, AT_LEAST_ONCE, BACKLOG);
        reset(leader, AT_LEAST_ONCE);
        ProcessCounters before = ProcessCounters.of(leader.pid());
        store(AT_LEAST_ONCE, BACKLOG);
        double rate = rate(awaitHandled(leader, AT_LEAST_ONCE, BACKLOG));
        ProcessCounters used = ProcessCounters.of(leader.pid()).since(before);
        Map<String, Object> drain = drain(rate, baseline);
        drain.putAll(perMessage(used, BACKLOG));
        results.put("drain_warm_leader", drain);
        table.add(String.format("%-44s %.0f  ratio to pgbench insert+delete, 4 clients %.2f", "drain " + BACKLOG
                + ", committed while leading (msg/s)", rate, ratio(rate, baseline)));
        table.add(perMessageRow(used, BACKLOG));
    }

    /** A backlog stored while no instance runs, drained by the leader that starts next. */
    private void drainAtStart(double baseline) {
        store(AT_LEAST_ONCE, BACKLOG);
        AppInstance leader = starter.apply(config);
        double rate = rate(awaitHandled(leader, AT_LEAST_ONCE, BACKLOG));
        leader.stop();
        results.put("drain_new_leader", drain(rate, baseline));
        table.add(String.format("%-44s %.0f  ratio to pgbench insert+delete, 4 clients %.2f", "drain " + BACKLOG
                + ", stored before a new leader started (msg/s)", rate, ratio(rate, baseline)));
    }

    private static Map<String, Object> drain(double rate, double baseline) {
        Map<String, Object> drain = new LinkedHashMap<>();
        drain.put("messages", BACKLOG);
        drain.put("per_s", Math.round(rate));
        drain.put("ratio_to_insert_delete_4_clients", ratio(rate, baseline));
        return drain;
    }

    /** The leader's CPU time and its threads' context switches per message, over a run. */
    private static Map<String, Object> perMessage(ProcessCounters used, int messages) {
        Map<String, Object> per = new LinkedHashMap<>();
        per.put("leader_cpu_us_per_message", BenchIT.round(used.cpuMicros() / (double) messages));
        per.put("leader_voluntary_switches_per_message", BenchIT.round(used.voluntarySwitches() / (double) messages));
        per.put("leader_involuntary_switches_per_message", BenchIT.round(used.involuntarySwitches() / (double) messages));
        return per;
    }

    private static String perMessageRow(ProcessCounters used, int messages) {
        return String.format("%-44s CPU %.1f us  context switches %.2f voluntary, %.2f involuntary", "  leader, per"
                + " message", used.cpuMicros() / (double) messages, used.voluntarySwitches() / (double) messages,
                used.involuntarySwitches() / (double) messages);
    }

    /** {@value #SENDERS} sends in flight in one instance, to a channel no method takes: {@code send} alone. */
    private void send(AppInstance sender, Map<String, Double> baselines) {
        double insertBaseline = baselines.get("insert_4_clients_tps");
        double functionBaseline = baselines.get("send_function_4_clients_tps");
        double bareBaseline = baselines.get("bare_client_send_function_4_in_flight_per_s");
        send(sender, UNHANDLED, 5_000, SENDERS, 0); // warm-up
        Map<String, Object> sent = send(sender, UNHANDLED, SEND_MESSAGES, SENDERS, 0);
        double rate = SEND_MESSAGES * 1e6 / ((Number) sent.get("micros")).longValue();
        long stored = TestPostgres.sql("SELECT count(*) FROM " + MESSAGES + " WHERE channel = $1", UNHANDLED).get(0)
                .getLong(0);
        TestPostgres.sql("DELETE FROM " + MESSAGES + " WHERE channel = $1", UNHANDLED);
        Map<String, Object> send = new LinkedHashMap<>();
        send.put("messages", SEND_MESSAGES);
        send.put("in_flight", SENDERS);
        send.put("per_s", Math.round(rate));
        send.put("ratio_to_insert_4_clients", ratio(rate, insertBaseline));
        send.put("ratio_to_send_function_4_clients", ratio(rate, functionBaseline));
        send.put("ratio_to_bare_client_send_function", ratio(rate, bareBaseline));
        results.put("send", send);
        table.add(String.format("%-44s %.0f  ratio to pgbench insert %.2f, to send function %.2f, to the bare"
                + " client's send function %.2f", "send, " + SENDERS + " in flight in one instance (msg/s)", rate,
                ratio(rate, insertBaseline), ratio(rate, functionBaseline), ratio(rate, bareBaseline)));
        assertThat(stored).isEqualTo(5_000 + SEND_MESSAGES);
    }

    // ---- idle cost

    /**
     * Transactions per second in the database ({@code pg_stat_database.xact_commit}) around one idle instance: with
     * the election off, leading with the durable channels' periodic check off, and leading with the defaults.
     */
    private void idleCost() {
        Map<String, String> off = new LinkedHashMap<>(config);
        off.put("quarkus.leader.enabled", "false");
        Map<String, String> noPoll = new LinkedHashMap<>(config);
        noPoll.put("quarkus.leader.durable.poll-interval", "1h");
        double[] disabled = idleCommits(off, false);
        double[] withoutCheck = idleCommits(noPoll, true);
        double[] withDefaults = idleCommits(config, true);
        int channels = durableChannels;
        Map<String, Object> idle = new LinkedHashMap<>();
        idle.put("window_s", IDLE_WINDOW.toSeconds());
        idle.put("election_disabled_tx_per_s", BenchIT.round(disabled[0]));
        idle.put("leader_poll_interval_1h_tx_per_s", BenchIT.round(withoutCheck[0]));
        idle.put("leader_defaults_tx_per_s", BenchIT.round(withDefaults[0]));
        idle.put("durable_channels", channels);
        idle.put("per_durable_channel_tx_per_s", BenchIT.round((withDefaults[0] - withoutCheck[0]) / channels));
        idle.put("election_disabled_cpu_ms_per_s", BenchIT.round(disabled[1]));
        idle.put("leader_poll_interval_1h_cpu_ms_per_s", BenchIT.round(withoutCheck[1]));
        idle.put("leader_defaults_cpu_ms_per_s", BenchIT.round(withDefaults[1]));
        results.put("idle", idle);
        table.add(String.format("%-44s off %.2f  leading, no periodic check %.2f  leading %.2f",
                "idle database tx/s (" + channels + " durable channels)", disabled[0], withoutCheck[0], withDefaults[0]));
        table.add(String.format("%-44s %.2f", "one idle durable channel, poll-interval 1s (tx/s)",
                (withDefaults[0] - withoutCheck[0]) / channels));
        table.add(String.format("%-44s off %.1f  leading, no periodic check %.1f  leading %.1f",
                "idle instance's CPU (ms per s)", disabled[1], withoutCheck[1], withDefaults[1]));
    }

    /** The database's commits per second and the instance's CPU milliseconds per second, over IDLE_WINDOW. */
    private double[] idleCommits(Map<String, String> instanceConfig, boolean leads) {
        AppInstance instance = starter.apply(instanceConfig);
        if (leads) {
            await().atMost(Duration.ofSeconds(30)).until(instance::isLeader);
            // the sample's durable channels, as the leader's readiness data lists their backlogs
            await().atMost(Duration.ofSeconds(30)).until(() -> durableChannels(instance) > 0);
            durableChannels = durableChannels(instance);
        }
        BenchIT.sleepMillis(3_000); // start-up's statements done, and flushed to the statistics
        long before = commits();
        ProcessCounters counters = ProcessCounters.of(instance.pid());
        long start = System.nanoTime();
        BenchIT.sleepMillis(IDLE_WINDOW.toMillis());
        long after = commits();
        ProcessCounters used = ProcessCounters.of(instance.pid()).since(counters);
        double seconds = (System.nanoTime() - start) / 1e9;
        instance.stop();
        return new double[] { (after - before) / seconds, used.cpuMicros() / 1000.0 / seconds };
    }

    private static int durableChannels(AppInstance leader) {
        String ready = given().port(leader.port()).get("/q/health/ready").then().extract().asString();
        return (int) BACKLOG_KEY.matcher(ready).results().count();
    }

    /** Committed transactions of the test database so far, as the statistics have them. */
    private static long commits() {
        return TestPostgres.sql("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").get(0)
                .getLong(0);
    }

    // ---- the table afterwards

    private void messageTable() {
        long rows = TestPostgres.sql("SELECT count(*) FROM " + MESSAGES).get(0).getLong(0);
        long bytes = TestPostgres.sql("SELECT pg_total_relation_size($1::regclass)", MESSAGES).get(0).getLong(0);
        results.put("message_table_rows", rows);
        results.put("message_table_bytes", bytes);
        table.add(String.format("%-44s %d rows, %d kB (pg_total_relation_size)", "message table after the runs", rows,
                bytes / 1024));
        assertThat(rows).isZero();
    }

    // ---- helpers

    /** {@code count} messages on {@code channel} in one transaction, through the send function, as any SQL client can. */
    private static void store(String channel, int count) {
        TestPostgres.sql("SELECT " + MessageTable.DEFAULT_FUNCTION + "($1, '{\"sentMicros\":' || (extract(epoch FROM"
                + " clock_timestamp()) * 1000000)::bigint || ',\"seq\":' || i || '}') FROM generate_series(1, $2::int) AS i",
                channel, count);
    }

    private static Map<String, Object> send(AppInstance sender, String channel, int count, int concurrency, int rate) {
        return given().port(sender.port()).queryParam("channel", channel).queryParam("count", count)
                .queryParam("concurrency", concurrency).queryParam("rate", rate).post("/bench/durable/send").then()
                .statusCode(200).extract().jsonPath().getMap("");
    }

    private static void reset(AppInstance leader, String channel) {
        given().port(leader.port()).queryParam("channel", channel).post("/bench/durable/reset").then().statusCode(204);
    }

    private static Map<String, Object> stats(AppInstance leader, String channel) {
        return given().port(leader.port()).queryParam("channel", channel).get("/bench/durable/stats").then()
                .statusCode(200).extract().jsonPath().getMap("");
    }

    private static Map<String, Object> awaitHandled(AppInstance leader, String channel, int expected) {
        // the count alone while the run goes on: the stats copy and sort every latency
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> Integer.parseInt(given().port(leader.port()).queryParam("channel", channel)
                        .get("/bench/durable/count").then().statusCode(200).extract().asString().trim()) >= expected);
        return stats(leader, channel);
    }

    /** Messages per second from the first method call to the last. */
    private static double rate(Map<String, Object> stats) {
        long count = ((Number) stats.get("count")).longValue();
        long micros = ((Number) stats.get("lastMicros")).longValue() - ((Number) stats.get("firstMicros")).longValue();
        return (count - 1) * 1e6 / Math.max(1, micros);
    }

    private static double micros(Map<String, Object> stats, String key) {
        return ((Number) stats.get(key)).longValue() / 1000.0;
    }

    private static Double ratio(double value, double baseline) {
        return baseline > 0 ? BenchIT.round(value / baseline) : null;
    }

}
