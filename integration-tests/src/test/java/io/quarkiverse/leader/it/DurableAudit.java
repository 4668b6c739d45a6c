package io.quarkiverse.leader.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.awaitility.core.ConditionTimeoutException;

import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.sqlclient.Row;

/**
 * What became of the durable messages of a chaos run, read from the lines the instances wrote as they handled
 * {@code orders}, the rows of {@code payment_effect}, and what the message table still holds. It waits, bounded, for
 * the backlog to drain, then checks: every committed message handled (orders at least once, payments' effects exactly
 * once), nothing of a rolled-back transaction handled, no row left; and counts the at-least-once duplicates per
 * scenario.
 */
final class DurableAudit {

    static final Duration DRAIN_LIMIT = Duration.ofSeconds(30);
    static final String BETWEEN = "(start-up, between scenarios)";

    record Handling(String channel, String id, long at) {
    }

    private final DurableSender sender;
    private final List<AppInstance> instances;
    private final String table;
    private final String token;
    private final Map<String, long[]> windows;
    private final List<String> failures = new ArrayList<>();
    private final long lastSend;
    private List<Handling> handled = List.of();
    private Map<String, Long> effects = Map.of();
    private long pending;
    private long dead;
    private List<String> rolledBackHandled = List.of();
    private long drainedAfter = -1;

    /**
     * @param windows the time window of each run of each scenario, keyed {@code <scenario>#<run>}
     */
    DurableAudit(DurableSender sender, List<AppInstance> instances, String table, String token,
            Map<String, long[]> windows) {
        this.sender = sender;
        this.instances = instances;
        this.table = table;
        this.token = token;
        this.windows = windows;
        this.lastSend = System.currentTimeMillis();
    }

    /** Waits until every committed message is handled and no row is pending (at most {@link #DRAIN_LIMIT}); the failures. */
    List<String> check() {
        try {
            await().atMost(DRAIN_LIMIT).pollInterval(Duration.ofMillis(250)).until(() -> {
                read();
                drainedAfter = System.currentTimeMillis() - lastSend;
                return lost().isEmpty() && pending == 0;
            });
        } catch (ConditionTimeoutException e) {
            failures.add("durable messages not all handled within " + DRAIN_LIMIT.toSeconds() + " s");
        }
        read();
        List<String> lost = lost();
        if (!lost.isEmpty()) {
            failures.add(lost.size() + " committed durable messages never handled: " + first(lost));
        }
        if (pending > 0 || dead > 0) {
            failures.add(table + " still holds " + pending + " pending rows and " + dead + " dead letters: "
                    + TestPostgres.sql("SELECT id, channel, payload, attempts, last_error, dead_at FROM " + table
                            + " ORDER BY id LIMIT 5").stream().map(Row::toJson).toList());
        }
        Set<String> handledIds = handled.stream().map(Handling::id).collect(Collectors.toSet());
        rolledBackHandled = sender.rolledBack().keySet().stream()
                .filter(id -> handledIds.contains(id) || effects.containsKey(id)).sorted().toList();
        if (!rolledBackHandled.isEmpty()) {
            failures.add("messages of transactions that rolled back were handled: " + first(rolledBackHandled));
        }
        List<String> unsent = effects.keySet().stream()
                .filter(id -> !sender.committed().containsKey(id) && !sender.uncertain().containsKey(id))
                .filter(id -> !sender.rolledBack().containsKey(id)).sorted().toList();
        if (!unsent.isEmpty()) {
            failures.add("payment effects of no sent payment: " + first(unsent));
        }
        // so that 0 lost means something: most sends were answered, and most rolled-back ones really were stored
        int committed = sender.committed().size();
        int uncertain = sender.uncertain().size();
        if (committed < 200 || uncertain * 10 > committed) {
            failures.add("too few durable sends were answered to prove anything: " + committed + " committed, "
                    + uncertain + " uncertain");
        }
        if (sender.rolledBackAnswered() * 2 < sender.rolledBack().size()) {
            failures.add("of " + sender.rolledBack().size() + " sends in transactions that rolled back, only "
                    + sender.rolledBackAnswered() + " were answered: the rollback check proves little");
        }
        return failures;
    }

    private void read() {
        List<Handling> lines = new ArrayList<>();
        for (AppInstance instance : instances) {
            try {
                if (Files.exists(instance.handledFile())) {
                    for (String line : Files.readAllLines(instance.handledFile())) {
                        String[] parts = line.split(" ");
                        if (parts.length == 3) { // a line being written is skipped until it is complete
                            lines.add(new Handling(parts[0], parts[1], Long.parseLong(parts[2])));
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        handled = lines;
        Map<String, Long> rows = new HashMap<>();
        TestPostgres.sql("SELECT payment_id, term FROM payment_effect WHERE payment_id LIKE $1", "%-" + token + "-%")
                .forEach(row -> rows.put(row.getString(0), row.getLong(1)));
        effects = rows;
        Row counts = TestPostgres.sql("SELECT count(*) FILTER (WHERE dead_at IS NULL), count(*) FILTER (WHERE dead_at IS"
                + " NOT NULL) FROM " + table).get(0);
        pending = counts.getLong(0);
        dead = counts.getLong(1);
    }

    /** Committed messages with no handling: orders in no instance's lines, payments with no effect. */
    private List<String> lost() {
        Set<String> handledIds = handled.stream().map(Handling::id).collect(Collectors.toSet());
        return sender.committed().values().stream()
                .filter(m -> m.channel().equals("orders") ? !handledIds.contains(m.id()) : !effects.containsKey(m.id()))
                .map(DurableSender.Sent::id).sorted().toList();
    }

    /** Per scenario, how many orders were handled again: each handling after an id's first counts once. */
    private Map<String, Integer> duplicatesByScenario() {
        Map<String, List<Long>> byId = handled.stream().collect(
                Collectors.groupingBy(Handling::id, Collectors.mapping(Handling::at, Collectors.toList())));
        Map<String, Integer> result = new LinkedHashMap<>();
        for (List<Long> times : byId.values()) {
            times.stream().sorted().skip(1).forEach(at -> result.merge(scenarioAt(at), 1, Integer::sum));
        }
        return result;
    }

    private String scenarioAt(long at) {
        return windows.entrySet().stream().filter(w -> at >= w.getValue()[0] && at <= w.getValue()[1])
                .map(w -> w.getKey().substring(0, w.getKey().indexOf('#'))).findFirst().orElse(BETWEEN);
    }

    /**
     * @param emptySince when the last instance was killed in the scenario with no instance running
     * @param leaderBackAt when an instance led again after it
     */
    void print(long emptySince, long leaderBackAt) {
        Map<String, int[]> rows = new LinkedHashMap<>(); // orders, payments, rolled back, uncertain, handled twice
        windows.keySet().forEach(w -> rows.putIfAbsent(w.substring(0, w.indexOf('#')), new int[5]));
        rows.put(BETWEEN, new int[5]);
        sender.committed().values().forEach(m -> rows.get(scenarioAt(m.at()))[m.channel().equals("orders") ? 0 : 1]++);
        sender.rolledBack().values().forEach(m -> rows.get(scenarioAt(m.at()))[2]++);
        sender.uncertain().values().forEach(m -> rows.get(scenarioAt(m.at()))[3]++);
        duplicatesByScenario().forEach((scenario, n) -> rows.get(scenario)[4] += n);
        Map<String, Long> seconds = new HashMap<>();
        windows.forEach((w, span) -> seconds.merge(w.substring(0, w.indexOf('#')), (span[1] - span[0]) / 1000, Long::sum));
        System.out.printf("[chaos] %-34s %8s %9s %12s %10s %21s %5s%n", "durable messages sent in", "orders", "payments",
                "rolled back", "uncertain", "orders handled twice", "s");
        rows.forEach((scenario, n) -> System.out.printf("[chaos] %-34s %8d %9d %12d %10d %21d %5s%n", scenario, n[0],
                n[1], n[2], n[3], n[4], seconds.containsKey(scenario) ? seconds.get(scenario).toString() : ""));

        long orders = sender.committed().values().stream().filter(m -> m.channel().equals("orders")).count();
        long payments = sender.committed().size() - orders;
        long uncertainEffects = sender.uncertain().keySet().stream().filter(effects::containsKey).count();
        long terms = effects.values().stream().distinct().count();
        long committedEffects = sender.committed().keySet().stream().filter(effects::containsKey).count();
        System.out.printf("[chaos] durable: %d orders and %d payments committed, %d lost; %d payment effects, each"
                + " once (%d of committed payments, %d of uncertain sends), in %d terms; %d sent in transactions that"
                + " rolled back, %d handled; %d orders handled twice; %d pending rows and %d dead letters left, drained"
                + " %d ms after the senders stopped%n", orders, payments, lost().size(), effects.size(),
                committedEffects, uncertainEffects, terms, sender.rolledBack().size(), rolledBackHandled.size(),
                rows.values().stream().mapToInt(n -> n[4]).sum(), pending, dead, drainedAfter);
        Set<String> sqlIds = new HashSet<>(sender.bySql().keySet());
        long sqlOrdersHandled = handled.stream().filter(h -> sqlIds.contains(h.id())).mapToLong(Handling::at).max()
                .orElse(-1);
        System.out.printf("[chaos] no instance running: %d ms without a leader, %d messages committed over SQL"
                + " meanwhile (%d orders), the last of those orders handled %d ms after the new leader began%n",
                leaderBackAt - emptySince, sqlIds.size(),
                sender.bySql().values().stream().filter(m -> m.channel().equals("orders")).count(),
                sqlOrdersHandled - leaderBackAt);
    }

    private static String first(List<String> ids) {
        return ids.size() <= 20 ? ids.toString() : ids.subList(0, 20) + " and " + (ids.size() - 20) + " more";
    }
}
