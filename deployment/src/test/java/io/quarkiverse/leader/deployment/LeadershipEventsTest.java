package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Both transitions reach synchronous and asynchronous observers, a throwing observer changes nothing, and an instance
 * whose session is terminated steps down and rejoins. The election runs without any channel.
 */
class LeadershipEventsTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Observers.class)
            .overrideConfigKey("quarkus.leader.instance-id", "events-test");

    @Inject
    LeaderElection election;

    @Inject
    Observers observers;

    @Inject
    ObjectMapper mapper;

    @Test
    void terminatedSessionStepsDownAndRejoins() throws Exception {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        // the observers run after leadership took effect, on a worker of their own
        await().atMost(Duration.ofSeconds(5)).until(() -> observers.sync.size() == 1 && observers.async.size() == 1);
        assertThat(election.instanceId()).isEqualTo("events-test");
        LeaderInfo leader = election.currentLeader().await().atMost(Duration.ofSeconds(10)).orElseThrow();
        assertThat(leader.instanceId()).isEqualTo("events-test");
        assertThat(leader.term()).isEqualTo(election.term().getAsLong());
        // both by the database's clock: the term began no later than it was read back
        Instant serverNow = TestPostgres.sql("SELECT now()").get(0).getOffsetDateTime(0).toInstant();
        assertThat(leader.since()).isBeforeOrEqualTo(serverNow);
        assertThat(TestPostgres.lockHolders(election.lock())).isEqualTo(1);

        assertThat(TestPostgres.terminateElectionSessions("events-test")).isEqualTo(1);

        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(observers.sync).extracting(LeadershipChanged::isLeader).containsExactly(true, false, true);
            assertThat(observers.async).extracting(LeadershipChanged::isLeader).containsExactly(true, false, true);
        });
        assertThat(observers.sync).allSatisfy(e -> {
            assertThat(e.instanceId()).isEqualTo("events-test");
            assertThat(e.lock()).isEqualTo(election.lock());
        });
        assertThat(election.isLeader()).isTrue();
        // each acquisition began the next term; the step-down reported the term that ended
        long first = observers.sync.get(0).term();
        assertThat(observers.sync).extracting(LeadershipChanged::term).containsExactly(first, first, first + 1);
        // a step-down takes effect no earlier than the leadership it ends
        assertThat(observers.sync.get(1).timestamp()).isAfterOrEqualTo(observers.sync.get(0).timestamp());
        assertThat(election.term()).hasValue(first + 1);
        assertThat(election.currentLeader().await().atMost(Duration.ofSeconds(10)))
                .hasValueSatisfying(l -> assertThat(l.term()).isEqualTo(first + 1));
        // one hold only, even after rejoining
        assertThat(TestPostgres.lockHolders(election.lock())).isEqualTo(1);
        assertThat(TestPostgres.sql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE l.locktype = 'advisory' AND a.application_name = 'leader:events-test'"
                + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())").get(0).getLong(0))
                .isEqualTo(1);
    }

    @Test
    void theEventSerialisesWithAllItsFields() throws Exception {
        LeadershipChanged change = new LeadershipChanged("jobs", true, "node-ü", 42, 7,
                Instant.parse("2026-12-01T10:15:30.123Z"));
        JsonNode json = mapper.readTree(mapper.writeValueAsString(change));
        assertThat(json.get("election").asText()).isEqualTo("jobs");
        assertThat(json.get("leader").asBoolean()).isTrue();
        assertThat(json.get("instanceId").asText()).isEqualTo("node-ü");
        assertThat(json.get("lock").asLong()).isEqualTo(42);
        assertThat(json.get("term").asLong()).isEqualTo(7);
        assertThat(json.get("timestamp").asText()).isEqualTo("2026-12-01T10:15:30.123Z");
        assertThat(json.size()).isEqualTo(6);
        assertThat(mapper.readValue(mapper.writeValueAsString(change), LeadershipChanged.class)).isEqualTo(change);
    }

    @Singleton
    static class Observers {

        final List<LeadershipChanged> sync = new CopyOnWriteArrayList<>();
        final List<LeadershipChanged> async = new CopyOnWriteArrayList<>();

        void onChange(@Observes LeadershipChanged event) {
            sync.add(event);
        }

        void failing(@Observes LeadershipChanged event) {
            throw new IllegalStateException("an observer that fails");
        }

        void onChangeAsync(@ObservesAsync LeadershipChanged event) {
            async.add(event);
        }
    }
}
