package io.quarkiverse.leader.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.runtime.TermTable;
import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

/**
 * The fencing proof ({@code ./mvnw -B verify -Pchaos}): processes of the packaged sample application; the leader starts a
 * fenced transaction (two writes {@value #HOLD_MS} ms apart), is paused with SIGSTOP between them and deposed; a new
 * leader begins the next term and makes a fenced write of its own; then the old one resumes. Whatever the interleaving,
 * no fenced commit of term N lands after term N+1 has begun: a trigger records, from the database's clock, when each
 * term began, and every committed write is compared with it.
 */
class FencingIT {

    static final int TRIALS = Integer.getInteger("fencing.trials", 12);
    static final long LEASE_MS = 2000;
    static final long HEARTBEAT_MS = 250;
    static final long IDLE_TIMEOUT_MS = 1500;
    static final long HOLD_MS = 800;
    static final Map<String, String> CONFIG = Map.of(
            "quarkus.leader.poll", "30s",
            "quarkus.leader.lease", LEASE_MS + "ms",
            "quarkus.leader.heartbeat", HEARTBEAT_MS + "ms",
            "quarkus.leader.reports.enabled", "false",
            "quarkus.leader.fencing.idle-timeout", IDLE_TIMEOUT_MS + "ms");

    /** How the paused leader is deposed, and when it resumes. */
    enum Deposal {
        /** pg_terminate_backend of its election session; resumed once its held write is due, before the idle timeout. */
        TERMINATED_RESUMED_EARLY,
        /** pg_terminate_backend; resumed after the new leader's own fenced write. */
        TERMINATED_RESUMED_LATE,
        /** evicted by a follower (evict-hung-leader); resumed after the new leader's own fenced write. */
        EVICTED
    }

    private final long lock = TestPostgres.uniqueLock();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<AppInstance> instances = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        instances.forEach(AppInstance::close);
        TestPostgres.sql("DROP TRIGGER IF EXISTS fencing_it_log_term ON " + TermTable.DEFAULT_TABLE);
    }

    @Test
    void aStaleLeaderNeverCommitsInANewTerm() throws Exception {
        createTables();
        for (int i = 0; i < 3; i++) {
            instances.add(AppInstance.start("fencing-" + i, TestPostgres.url(), lock, CONFIG));
        }
        Map<Deposal, Map<String, Integer>> outcomes = new EnumMap<>(Deposal.class);
        Map<Deposal, List<Long>> heldUp = new EnumMap<>(Deposal.class);
        for (int trial = 0; trial < TRIALS; trial++) {
            Deposal how = Deposal.values()[trial % Deposal.values().length];
            AppInstance old = stableLeader();
            long term = old.term();

            CompletableFuture<HttpResponse<String>> stale = post(old, "/fenced?holdMs=" + HOLD_MS + "&request=stale-" + trial);
            long idleSince = awaitFencedTransactionIdle();
            old.pause();
            long deposedAt = System.currentTimeMillis();
            if (how != Deposal.EVICTED) {
                TestPostgres.terminateElectionSessions(old.id());
            }
            if (how == Deposal.TERMINATED_RESUMED_EARLY) {
                // the held write is due by now: it races the old leader's discovery that it was deposed
                Thread.sleep(Math.max(0, idleSince + HOLD_MS + 200 - System.currentTimeMillis()));
                old.resume();
            }
            AppInstance next = awaitLeaderOtherThan(old);
            long nextTerm = next.term();
            assertThat(nextTerm).as("the term after %d", term).isEqualTo(term + 1);
            HttpResponse<String> own = post(next, "/fenced?request=next-" + trial).get(30, TimeUnit.SECONDS);
            assertThat(own.statusCode()).as("the new leader's fenced write: %s", own.body()).isEqualTo(200);
            assertThat(new JsonObject(own.body()).getLong("term")).isEqualTo(nextTerm);
            if (how != Deposal.TERMINATED_RESUMED_EARLY) {
                old.resume();
            }

            HttpResponse<String> result = stale.get(30, TimeUnit.SECONDS);
            assertThat(result.statusCode()).as("the old leader's fenced write: %s", result.body()).isIn(200, 409);
            String outcome = outcome(result);
            outcomes.computeIfAbsent(how, h -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
            assertThat(writes("stale-" + trial, term)).as("rows of the old leader's transaction in term %d", term)
                    .isEqualTo(result.statusCode() == 200 ? 2 : 0);
            heldUp.computeIfAbsent(how, h -> new ArrayList<>()).add(began(term + 1) - deposedAt);
            await().atMost(Duration.ofSeconds(15)).until(() -> Boolean.FALSE.equals(old.leaderState()));
        }

        long late = TestPostgres.sql("SELECT count(*) FROM sample_fenced_writes w JOIN fencing_it_terms t"
                + " ON t.lock_key = w.lock_key AND t.term = w.term + 1 WHERE w.lock_key = $1 AND w.at >= t.began", lock)
                .get(0).getLong(0);
        List<Long> terms = TestPostgres.sql("SELECT term FROM fencing_it_terms WHERE lock_key = $1 ORDER BY began", lock)
                .stream().map(r -> r.getLong(0)).toList();

        System.out.println();
        System.out.printf("[fencing] %d trials, idle timeout %d ms, hold %d ms, lease %d ms%n", TRIALS,
                IDLE_TIMEOUT_MS, HOLD_MS, LEASE_MS);
        for (Deposal how : Deposal.values()) {
            System.out.printf("[fencing] %-25s outcomes %-75s next term began after the deposal, ms min/median/max %s%n",
                    how, outcomes.getOrDefault(how, Map.of()), stats(heldUp.getOrDefault(how, List.of())));
        }
        System.out.printf("[fencing] fenced commits of a term that landed after the next term began: %d%n", late);

        assertThat(late).isZero();
        assertThat(terms).as("terms, in the order they began").isSorted().doesNotHaveDuplicates();
        assertThat(terms.get(terms.size() - 1) - terms.get(0)).isEqualTo(terms.size() - 1);
        // a deposed leader holds up the next term no longer than the idle timeout of its fenced transaction (after
        // the eviction threshold, when it is a follower that deposes it)
        heldUp.forEach((how, delays) -> assertThat(delays).as("%s", how).allSatisfy(delay -> assertThat(delay)
                .isLessThan(IDLE_TIMEOUT_MS + 1000 + (how == Deposal.EVICTED ? LEASE_MS + 2 * HEARTBEAT_MS : 0))));
    }

    private static void createTables() {
        TestPostgres.sql(PostgresResource.FENCED_WRITES_DDL);
        TestPostgres.sql(new TermTable(Optional.empty(), TermTable.DEFAULT_TABLE, true, Duration.ZERO, "").ddl());
        // when each term began, by the database's clock: the new leader sets since once the term row is its own
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS fencing_it_terms (lock_key bigint, term bigint, began timestamptz)");
        TestPostgres.sql("CREATE OR REPLACE FUNCTION fencing_it_log_term() RETURNS trigger LANGUAGE plpgsql AS"
                + " $$ BEGIN INSERT INTO fencing_it_terms VALUES (NEW.lock_key, NEW.term, NEW.since); RETURN NEW; END $$");
        TestPostgres.sql("DROP TRIGGER IF EXISTS fencing_it_log_term ON " + TermTable.DEFAULT_TABLE);
        TestPostgres.sql("CREATE TRIGGER fencing_it_log_term AFTER INSERT OR UPDATE ON " + TermTable.DEFAULT_TABLE
                + " FOR EACH ROW EXECUTE FUNCTION fencing_it_log_term()");
    }

    private AppInstance stableLeader() {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(() -> instances.stream().filter(AppInstance::isLeader).count() == 1);
        return instances.stream().filter(AppInstance::isLeader).findFirst().orElseThrow();
    }

    private AppInstance awaitLeaderOtherThan(AppInstance old) {
        await().atMost(Duration.ofMillis(LEASE_MS + IDLE_TIMEOUT_MS + 15_000)).pollInterval(Duration.ofMillis(20))
                .until(() -> instances.stream().anyMatch(i -> i != old && i.isLeader()));
        return instances.stream().filter(i -> i != old && i.isLeader()).findFirst().orElseThrow();
    }

    /** Waits until the old leader's fenced transaction sits between its two writes; returns when that was seen. */
    private long awaitFencedTransactionIdle() {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(() -> TestPostgres.sql("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
                        + " AND datname = current_database() AND query LIKE 'INSERT INTO sample_fenced_writes%'").get(0)
                        .getLong(0) == 1);
        return System.currentTimeMillis();
    }

    private CompletableFuture<HttpResponse<String>> post(AppInstance instance, String path) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + instance.port() + path))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private long writes(String request, long term) {
        return TestPostgres.sql("SELECT count(*) FROM sample_fenced_writes WHERE lock_key = $1 AND request = $2"
                + " AND term = $3", lock, request, term).get(0).getLong(0);
    }

    private long began(long term) {
        Row row = TestPostgres.sql("SELECT (extract(epoch FROM began) * 1000)::bigint FROM fencing_it_terms"
                + " WHERE lock_key = $1 AND term = $2", lock, term).get(0);
        return row.getLong(0);
    }

    private static String outcome(HttpResponse<String> result) {
        if (result.statusCode() == 200) {
            return "committed before term N+1";
        }
        String reason = new JsonObject(result.body()).getString("fenced");
        if (reason.contains("stopped leading")) {
            return "rolled back, deposal seen before COMMIT";
        }
        return reason.contains("ended while") ? "failed, ended by PostgreSQL" : "refused, term over";
    }

    private static String stats(List<Long> values) {
        if (values.isEmpty()) {
            return "-";
        }
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(0) + " / " + sorted.get(sorted.size() / 2) + " / " + sorted.get(sorted.size() - 1);
    }
}
