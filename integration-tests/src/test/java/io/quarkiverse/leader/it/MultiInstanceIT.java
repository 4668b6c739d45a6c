package io.quarkiverse.leader.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.test.TestPostgres;

/**
 * Several processes of the packaged sample application on one database: exactly one leads, only it handles
 * notifications, and leadership moves when the leader stops, dies or loses its session.
 */
class MultiInstanceIT {

    private final List<AppInstance> instances = new ArrayList<>();
    private final long lock = TestPostgres.uniqueLock();

    @AfterEach
    void stopAll() {
        instances.forEach(AppInstance::close);
    }

    @Test
    void onlyTheLeaderHandlesAndAGracefulStopHandsOver() {
        startInstances(3);
        AppInstance leader = awaitSingleLeader(instances);
        AppInstance follower = other(leader, instances);

        Map<String, Object> first = Map.of("id", "before", "text", "sent by a follower", "priority", 1);
        follower.notify("events", first);
        await().untilAsserted(() -> assertThat(leader.received("events")).containsExactly(first));
        for (AppInstance instance : instances) {
            if (instance != leader) {
                assertThat(instance.received("events")).isEmpty();
            }
        }

        leader.stop();
        List<AppInstance> remaining = without(leader);
        AppInstance next = awaitSingleLeader(remaining);
        Map<String, Object> second = Map.of("id", "after", "text", "after the handover", "priority", 2);
        other(next, remaining).notify("events", second);
        await().untilAsserted(() -> assertThat(next.received("events")).containsExactly(second));
    }

    @Test
    void theNamedElectionHasALeaderOfItsOwn() {
        startInstances(2);
        await().atMost(Duration.ofSeconds(30)).until(() -> instances.stream().filter(i -> i.leads("reports")).count() == 1);
        AppInstance reportsLeader = instances.stream().filter(i -> i.leads("reports")).findFirst().orElseThrow();
        AppInstance other = other(reportsLeader, instances);
        Map<String, Object> report = Map.of("id", "r", "text", "for the reports election", "priority", 1);
        other.notify("reports", report);
        await().untilAsserted(() -> assertThat(reportsLeader.received("reports")).containsExactly(report));
        assertThat(other.received("reports")).isEmpty();

        // the default election does not follow: killing the reports leader hands reports over, whoever led by default
        reportsLeader.kill();
        await().atMost(Duration.ofSeconds(30)).until(() -> other.leads("reports") && other.isLeader());
    }

    @Test
    void anObserverThatNeverReturnsHoldsTheShutdownUpByItsBoundOnly() {
        Map<String, String> config = Map.of("sample.stuck-observer", "true", "quarkus.leader.observer-timeout", "1s");
        startInstances(2, config);
        AppInstance leader = awaitSingleLeader(instances);
        AppInstance follower = other(leader, instances);
        long stoppedAt = System.currentTimeMillis();
        long exitMillis = leader.stopWithin(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(10)).until(follower::isLeader);
        List<Map<String, Object>> history = follower.history();
        assertThat(history).extracting(t -> t.get("leader")).containsExactly(true);
        long takeoverMillis = ((Number) history.get(0).get("epochMillis")).longValue() - stoppedAt;
        System.out.println("[multi] a leader whose observer never returns: the follower led " + takeoverMillis
                + " ms after SIGTERM, the process exited after " + exitMillis + " ms");
        // the lock passes once observer-timeout (1 s) has run out; the process exits once Quarkus' worker pool
        // gives up on the stuck thread (quarkus.thread-pool.shutdown-interrupt, 10 s)
        assertThat(takeoverMillis).isBetween(900L, 4_000L);
        assertThat(exitMillis).isBetween(900L, 15_000L);
    }

    @Test
    void aKilledLeaderIsReplaced() {
        startInstances(3);
        AppInstance leader = awaitSingleLeader(instances);
        leader.kill();
        List<AppInstance> remaining = without(leader);
        AppInstance next = awaitSingleLeader(remaining);
        Map<String, Object> event = Map.of("id", "k", "text", "after the kill", "priority", 3);
        other(next, remaining).notify("events", event);
        await().untilAsserted(() -> assertThat(next.received("events")).containsExactly(event));
    }

    @Test
    void aLeaderWhoseSessionIsTerminatedStepsDownAndRejoins() {
        startInstances(2);
        AppInstance leader = awaitSingleLeader(instances);
        AppInstance follower = other(leader, instances);

        assertThat(TestPostgres.terminateElectionSessions(leader.id())).isEqualTo(1);

        await().atMost(Duration.ofSeconds(15)).until(() -> follower.isLeader() && !leader.isLeader());
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(leader.history())
                .extracting(t -> t.get("leader")).containsExactly(true, false));
        // it has rejoined: its new session waits for the lock
        await().atMost(Duration.ofSeconds(15)).until(() -> TestPostgres.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
                "leader:" + leader.id()).get(0).getLong(0) == 1);
        assertThat(TestPostgres.lockHolders(lock)).isEqualTo(1);
    }

    @Test
    void scheduledJobsRunOnTheLeaderOnly() {
        startInstances(2);
        AppInstance leader = awaitSingleLeader(instances);
        AppInstance follower = other(leader, instances);
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(leader.jobRuns())
                .allSatisfy((job, runs) -> assertThat(runs).as(job).isGreaterThanOrEqualTo(2)));
        assertThat(follower.jobRuns()).containsEntry("leaderOnly", 0).containsEntry("skipUnlessLeader", 0);
    }

    private void startInstances(int count) {
        startInstances(count, Map.of());
    }

    private void startInstances(int count, Map<String, String> config) {
        for (int i = 1; i <= count; i++) {
            instances.add(AppInstance.start("node-" + i + "-" + Long.toHexString(lock).substring(0, 4), TestPostgres.url(),
                    lock, config));
        }
    }

    private static AppInstance awaitSingleLeader(List<AppInstance> candidates) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                .until(() -> candidates.stream().filter(AppInstance::isLeader).count() == 1);
        List<AppInstance> leaders = candidates.stream().filter(AppInstance::isLeader).collect(Collectors.toList());
        assertThat(leaders).hasSize(1);
        return leaders.get(0);
    }

    private List<AppInstance> without(AppInstance gone) {
        return instances.stream().filter(i -> i != gone).collect(Collectors.toList());
    }

    private static AppInstance other(AppInstance leader, List<AppInstance> candidates) {
        return candidates.stream().filter(i -> i != leader).findFirst().orElseThrow();
    }
}
