package io.quarkiverse.leader.it;

import static io.quarkiverse.leader.it.Leaderships.firstLeadSince;
import static io.quarkiverse.leader.it.Leaderships.intervals;
import static io.quarkiverse.leader.it.Leaderships.last;
import static io.quarkiverse.leader.it.Leaderships.overlap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import io.quarkiverse.leader.it.Leaderships.Interval;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.TestPostgres;

/**
 * A real failover ({@code ./mvnw -B verify -Pchaos}): three processes of the sample application on a primary and its
 * streaming standby, both hosts in their URL, each reached through a TCP proxy. The primary is shut down, its
 * postmaster killed, or cut off by its proxy while it still runs; the standby is promoted; then the old primary is
 * rebuilt as the new standby, and the next run fails over the other way. For every run the suite prints and bounds how
 * soon the old leader stepped down and a new one led on the new primary, checks that nobody led while only the standby
 * was reachable, that terms after the failover are greater than every term before it, from every instance's own
 * history that no two instances ever led at once and that each leadership began a greater term than the one before,
 * and that durable messages committed and replicated before it are handled.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class FailoverIT {

    static final int REPETITIONS = Integer.getInteger("failover.repetitions", 3);
    static final long LEASE_MS = 2000;
    static final long POLL_MS = 2000;
    static final long RECONNECT_MAX_DELAY_MS = 500;
    /** The old leader's lease, and the moment its lease ends to when it reports it. */
    static final long STEP_DOWN_BOUND_MS = LEASE_MS + 500;
    /** The backoff's longest delay and, on the way, the old primary's host (a lease at most) and the takeover. */
    static final long NEW_LEADER_BOUND_MS = RECONNECT_MAX_DELAY_MS + LEASE_MS + 500;
    /** Cut off, followers find their silent sessions after poll + lease, then walk past the silent host. */
    static final long NEW_LEADER_CUT_OFF_BOUND_MS = POLL_MS + 2 * LEASE_MS + RECONNECT_MAX_DELAY_MS + 500;
    static final Map<String, String> CONFIG = Map.of(
            "quarkus.leader.poll", POLL_MS + "ms",
            "quarkus.leader.lease", LEASE_MS + "ms",
            "quarkus.leader.heartbeat", "250ms",
            "quarkus.leader.reconnect-max-delay", RECONNECT_MAX_DELAY_MS + "ms",
            "quarkus.leader.fencing.idle-timeout", "1s", // shorter than poll
            "quarkus.leader.reports.enabled", "false");

    private final long lock = TestPostgres.uniqueLock();
    private final String token = Long.toHexString(lock);
    private final List<AppInstance> instances = new ArrayList<>();
    private final Map<String, List<long[]>> figures = new LinkedHashMap<>();
    private final List<String> sent = new ArrayList<>();
    private ReplicatedPostgres pg;
    private final TcpProxy[] proxies = new TcpProxy[2];
    private int messages;

    @AfterEach
    void cleanUp() {
        instances.forEach(AppInstance::close);
        for (TcpProxy proxy : proxies) {
            if (proxy != null) {
                proxy.close();
            }
        }
        if (pg != null) {
            pg.stop();
        }
    }

    @Test
    void theElectionFollowsThePrimary() {
        pg = ReplicatedPostgres.start("failover-it");
        proxies[0] = new TcpProxy("127.0.0.1", pg.port(0));
        proxies[1] = new TcpProxy("127.0.0.1", pg.port(1));
        String url = ReplicatedPostgres.urlOfPort(proxies[0].port()) + ","
                + ReplicatedPostgres.urlOfPort(proxies[1].port());
        for (int i = 1; i <= 3; i++) {
            instances.add(AppInstance.start("failover-" + i, url, lock, CONFIG));
        }
        for (int r = 0; r < REPETITIONS; r++) {
            failover("a fast shutdown", pg::stopPrimary, NEW_LEADER_BOUND_MS);
            failover("b postmaster SIGKILL", pg::killPrimary, NEW_LEADER_BOUND_MS);
            failover("c cut off by the network", () -> proxies[pg.primary()].blackhole(true),
                    NEW_LEADER_CUT_OFF_BOUND_MS);
        }
        report();
        assertOneLeaderAtATime();
        awaitHandled();
    }

    /**
     * From every instance's own history: no two instances ever led at the same moment, and each leadership began a term
     * greater than every term before it (a repeated term shows here, though no poll of the instances caught it).
     */
    private void assertOneLeaderAtATime() {
        long end = now();
        List<Interval> intervals = intervals(instances, instance -> end);
        assertThat(overlap(intervals, 0, end)).as("milliseconds in which two instances led: %s", intervals).isZero();
        for (int i = 1; i < intervals.size(); i++) {
            assertThat(intervals.get(i).term()).as("the term of leadership %s after %s", intervals.get(i),
                    intervals.get(i - 1)).isGreaterThan(intervals.get(i - 1).term());
        }
        System.out.printf("[failover] %d leaderships, none at the same time as another, terms %d to %d%n",
                intervals.size(), intervals.get(0).term(), intervals.get(intervals.size() - 1).term());
    }

    /** One failover: the primary goes as {@code disruption} says, the standby is promoted, the old one rebuilt. */
    private void failover(String scenario, Runnable disruption, long newLeaderBoundMs) {
        AppInstance leader = awaitOneLeader();
        sendDurable(5);
        pg.awaitReplayed(); // what follows was shipped: it must survive
        long termBefore = leader.term(); // the term in use, whether or not the standby has it
        int oldPrimary = pg.primary();

        long t0 = now();
        disruption.run();
        await().atMost(Duration.ofMillis(LEASE_MS + 10_000)).pollInterval(Duration.ofMillis(10))
                .until(() -> !Boolean.TRUE.equals(leader.leaderState()));
        long steppedDown = last(leader, false);
        // the standby is the only server the instances can reach now: nobody leads, nobody holds the lock there
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> instances.stream().noneMatch(AppInstance::isLeader)
                        && TestPostgres.lockHolders(pg.standbyUrl(), lock) == 0);

        pg.promoteStandby();
        long promoted = now();
        AppInstance next = awaitOneLeader();
        long acquired = firstLeadSince(next, promoted - 100);
        long termAfter = next.term();
        assertThat(pg.primary()).isNotEqualTo(oldPrimary);
        assertThat(TestPostgres.lockHolders(pg.primaryUrl(), lock)).as("holders on the new primary").isEqualTo(1);
        assertThat(pg.inRecovery(pg.primary())).isFalse();

        long stepDownMs = steppedDown - t0;
        long newLeaderMs = acquired - promoted;
        System.out.printf("[failover] %-26s step-down %5d ms, new leader %5d ms after promote (%s), term %d -> %d%n",
                scenario, stepDownMs, newLeaderMs, next.id(), termBefore, termAfter);
        figures.computeIfAbsent(scenario, s -> new ArrayList<>())
                .add(new long[] { stepDownMs, newLeaderMs, termBefore, termAfter });
        assertThat(stepDownMs).as(scenario + ": step-down of the old leader").isLessThanOrEqualTo(STEP_DOWN_BOUND_MS);
        assertThat(newLeaderMs).as(scenario + ": new leader after the promotion").isLessThanOrEqualTo(newLeaderBoundMs);
        assertThat(termAfter).as(scenario + ": the first term after the failover").isGreaterThan(termBefore);

        pg.rebuildStandby(); // first: an old primary that still ran must not be reached again
        proxies[oldPrimary].blackhole(false);
    }

    /**
     * Durable messages through the instances, each committed on the primary before {@code send} answers. A send whose
     * answer does not come within the client's second (a busy machine) is not counted, and another is sent.
     */
    private void sendDurable(int count) {
        int answered = 0;
        for (int attempt = 0; answered < count && attempt < 3 * count; attempt++) {
            String id = "fo-" + token + "-" + messages++;
            try {
                instances.get(attempt % instances.size()).send("orders", "{\"id\":\"" + id + "\"}");
                sent.add(id);
                answered++;
            } catch (RuntimeException e) {
                System.out.println("[failover] a durable send got no answer: " + e.getMessage());
            }
        }
        assertThat(answered).as("durable sends answered").isEqualTo(count);
    }

    /** Every durable message that was committed and replicated before a failover is handled by some instance. */
    private void awaitHandled() {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            List<String> handled = new ArrayList<>();
            for (AppInstance instance : instances) {
                if (Files.exists(instance.handledFile())) {
                    for (String line : Files.readAllLines(instance.handledFile())) {
                        String[] parts = line.split(" ");
                        if (parts.length > 1 && parts[0].equals("orders")) {
                            handled.add(parts[1]);
                        }
                    }
                }
            }
            assertThat(handled).containsAll(sent);
        });
        System.out.printf("[failover] %d durable messages sent before the failovers, all handled%n", sent.size());
    }

    private AppInstance awaitOneLeader() {
        AppInstance[] leader = new AppInstance[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10)).until(() -> {
            List<AppInstance> leaders = instances.stream().filter(AppInstance::isLeader).toList();
            leader[0] = leaders.size() == 1 ? leaders.get(0) : null;
            return leader[0] != null;
        });
        return leader[0];
    }

    private void report() {
        System.out.println();
        System.out.printf("[failover] %-26s %24s %24s %s%n", "scenario (" + REPETITIONS + " runs each)",
                "step-down ms min/med/max", "new leader ms min/med/max", "max term before / after");
        figures.forEach((scenario, runs) -> System.out.printf("[failover] %-26s %24s %24s %d / %d%n", scenario,
                stats(runs, 0), stats(runs, 1), runs.stream().mapToLong(r -> r[2]).max().orElse(0),
                runs.stream().mapToLong(r -> r[3]).max().orElse(0)));
        System.out.printf("[failover] bounds: step-down %d ms, new leader %d ms (cut off: %d ms)%n", STEP_DOWN_BOUND_MS,
                NEW_LEADER_BOUND_MS, NEW_LEADER_CUT_OFF_BOUND_MS);
    }

    private static String stats(List<long[]> runs, int column) {
        List<Long> values = new ArrayList<>(runs.stream().map(r -> r[column]).toList());
        Collections.sort(values);
        return values.get(0) + " / " + values.get(values.size() / 2) + " / " + values.get(values.size() - 1);
    }

    private static long now() {
        return System.currentTimeMillis();
    }
}
