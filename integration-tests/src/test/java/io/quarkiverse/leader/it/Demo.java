package io.quarkiverse.leader.it;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.quarkiverse.leader.test.TestPostgres;

/**
 * The demo: three instances of the sample application on one PostgreSQL (embedded unless LEADER_TEST_DATABASE_URL
 * names one); shows who leads, routes notifications, kills the leader and shows the takeover, then exits.
 */
public final class Demo {

    private Demo() {
    }

    public static void main(String[] args) {
        say("Starting PostgreSQL ...");
        String url = TestPostgres.url();
        long lock = TestPostgres.uniqueLock();
        List<AppInstance> instances = new ArrayList<>();
        int status = 0;
        try {
            for (String id : List.of("alpha", "bravo", "charlie")) {
                instances.add(AppInstance.start(id, url, lock, Map.of("quarkus.log.level", "WARN")));
                say("started %s", instances.get(instances.size() - 1));
            }
            AppInstance leader = awaitLeader(instances);
            show(instances);

            AppInstance sender = instances.stream().filter(i -> i != leader).findFirst().orElseThrow();
            for (int n = 1; n <= 3; n++) {
                Map<String, Object> event = Map.of("id", "event-" + n, "text", "from " + sender.id(), "priority", n);
                sender.notify("events", event);
                say("%s sent %s on channel 'events'", sender.id(), event);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> leader.received("events").size() == 3);
            for (AppInstance instance : instances) {
                say("  %-8s handled %s", instance.id(), instance.received("events"));
            }

            say("Killing the leader %s with SIGKILL ...", leader);
            long killedAt = System.currentTimeMillis();
            leader.kill();
            List<AppInstance> remaining = instances.stream().filter(i -> i != leader).toList();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                    .until(() -> remaining.stream().anyMatch(AppInstance::isLeader));
            AppInstance next = remaining.stream().filter(AppInstance::isLeader).findFirst().orElseThrow();
            List<Map<String, Object>> history = next.history();
            long acquiredAt = ((Number) history.get(history.size() - 1).get("epochMillis")).longValue();
            say("%s took over %d ms after the kill (from its own LeadershipChanged event)", next.id(),
                    acquiredAt - killedAt);
            show(remaining);

            AppInstance other = remaining.stream().filter(i -> i != next).findFirst().orElseThrow();
            Map<String, Object> event = Map.of("id", "event-4", "text", "after the takeover", "priority", 4);
            other.notify("events", event);
            await().atMost(Duration.ofSeconds(10)).until(() -> !next.received("events").isEmpty());
            say("%s sent %s; the new leader %s handled %s", other.id(), event, next.id(), next.received("events"));
            say("Demo finished.");
        } catch (RuntimeException e) {
            status = 1;
            say("Demo failed: %s (instance logs are in integration-tests/target/instances)", e);
        } finally {
            instances.forEach(AppInstance::close);
        }
        System.exit(status);
    }

    private static AppInstance awaitLeader(List<AppInstance> instances) {
        await().atMost(Duration.ofSeconds(30)).until(() -> instances.stream().anyMatch(AppInstance::isLeader));
        return instances.stream().filter(AppInstance::isLeader).findFirst().orElseThrow();
    }

    private static void show(List<AppInstance> instances) {
        for (AppInstance instance : instances) {
            say("  %-8s %s", instance.id(), instance.isLeader() ? "LEADER" : "follower");
        }
    }

    private static void say(String format, Object... args) {
        System.out.println("[demo] " + String.format(format, args));
    }
}
