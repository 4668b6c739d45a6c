package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderOnly;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.NotLeaderException;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Named elections run beside the default one, each on its own session and lock: handlers, injection, events,
 * {@code @LeaderOnly}, health and terms all follow the election they name. "Reports" (quoted, mixed case) is switched
 * off, so its handlers never run.
 */
class NamedElectionsTest {

    // fixed: the class is loaded twice (by JUnit and by the application), a random key would differ
    private static final long JOBS_LOCK = 7_231_001L;
    private static final long REPORTS_LOCK = 7_231_002L;

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Handlers.class, Observers.class)
            .overrideConfigKey("quarkus.leader.instance-id", "named-test")
            .overrideConfigKey("quarkus.leader.jobs.lock", Long.toString(JOBS_LOCK))
            .overrideConfigKey("quarkus.leader.\"Reports\".lock", Long.toString(REPORTS_LOCK))
            .overrideConfigKey("quarkus.leader.\"Reports\".enabled", "false");

    @Inject
    LeaderElection defaultElection;

    @Inject
    @Election("jobs")
    LeaderElection jobs;

    @Inject
    @Election("Reports")
    LeaderElection reports;

    @Inject
    @Election(LeaderElection.DEFAULT_NAME)
    LeaderElection defaultByName;

    @Inject
    Handlers handlers;

    @Inject
    Observers observers;

    @Test
    void eachElectionLeadsOnItsOwnLockAndHandlesItsOwnChannels() {
        await().atMost(Duration.ofSeconds(15)).until(() -> defaultElection.isLeader() && jobs.isLeader());
        assertThat(defaultElection.name()).isEqualTo(LeaderElection.DEFAULT_NAME);
        assertThat(defaultByName.lock()).isEqualTo(defaultElection.lock());
        assertThat(jobs.name()).isEqualTo("jobs");
        assertThat(jobs.lock()).isEqualTo(JOBS_LOCK).isNotEqualTo(defaultElection.lock());
        assertThat(jobs.instanceId()).isEqualTo("named-test");
        assertThat(reports.lock()).isEqualTo(REPORTS_LOCK);
        assertThat(reports.isLeader()).isFalse();
        // one session each, each holding its own lock
        assertThat(TestPostgres.lockHolders(defaultElection.lock())).isEqualTo(1);
        assertThat(TestPostgres.lockHolders(JOBS_LOCK)).isEqualTo(1);
        assertThat(TestPostgres.lockHolders(REPORTS_LOCK)).isZero();
        // pg_stat_activity tells the sessions apart: leader:<instance> and leader/<election>:<instance>
        assertThat(TestPostgres.sql("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'leader%'"
                + " AND application_name LIKE '%named-test' AND datname = current_database() ORDER BY 1"))
                .extracting(r -> r.getString(0))
                .containsExactly("leader/jobs:named-test", "leader:named-test");
        assertThat(jobs.term()).isPresent();
        assertThat(jobs.currentLeader().await().atMost(Duration.ofSeconds(10)))
                .hasValueSatisfying(l -> assertThat(l.instanceId()).isEqualTo("named-test"));

        defaultElection.notifyAndAwait("named_default", "to the default election");
        jobs.notifyAndAwait("named_jobs", "to jobs");
        defaultElection.notifyAndAwait("named_reports", "to reports, which nobody leads");
        await().untilAsserted(() -> {
            assertThat(handlers.received).containsExactlyInAnyOrder("default: to the default election", "jobs: to jobs");
        });
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                .until(() -> handlers.received.size() == 2);
    }

    @Test
    void eventsSayWhichElectionAndQualifiedObserversHearTheirOwn() {
        await().atMost(Duration.ofSeconds(15)).until(() -> defaultElection.isLeader() && jobs.isLeader());
        await().untilAsserted(() -> assertThat(observers.all).extracting(LeadershipChanged::election)
                .containsExactlyInAnyOrder(LeaderElection.DEFAULT_NAME, "jobs"));
        assertThat(observers.jobsOnly).extracting(LeadershipChanged::election).containsExactly("jobs");
        assertThat(observers.jobsOnly.get(0).lock()).isEqualTo(JOBS_LOCK);
    }

    @Test
    void leaderOnlyFollowsTheElectionItNames() {
        await().atMost(Duration.ofSeconds(15)).until(jobs::isLeader);
        assertThat(handlers.jobsOnly()).isEqualTo("ran");
        assertThatThrownBy(handlers::reportsOnly).isInstanceOf(NotLeaderException.class)
                .hasMessageContaining("does not lead election 'Reports'");
    }

    @Test
    void readinessShowsEveryElection() {
        await().atMost(Duration.ofSeconds(15)).until(() -> defaultElection.isLeader() && jobs.isLeader());
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'Leader election' }.data.role", equalTo("leader"))
                .body("checks.find { it.name == 'Leader election' }.data.'jobs.role'", equalTo("leader"))
                .body("checks.find { it.name == 'Leader election' }.data.'jobs.lock'", equalTo(Long.toString(JOBS_LOCK)))
                .body("checks.find { it.name == 'Leader election' }.data.'Reports.role'", equalTo("disabled"));
    }

    @Singleton
    static class Handlers {

        final List<String> received = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("named_default")
        void onDefault(String payload) {
            received.add("default: " + payload);
        }

        @OnLeaderNotification(value = "named_jobs", election = "jobs")
        void onJobs(String payload) {
            received.add("jobs: " + payload);
        }

        @OnLeaderNotification(value = "named_reports", election = "Reports")
        void onReports(String payload) {
            received.add("reports: " + payload);
        }

        @LeaderOnly(election = "jobs")
        String jobsOnly() {
            return "ran";
        }

        @LeaderOnly(election = "Reports")
        String reportsOnly() {
            return "ran";
        }
    }

    @Singleton
    static class Observers {

        final List<LeadershipChanged> all = new CopyOnWriteArrayList<>();
        final List<LeadershipChanged> jobsOnly = new CopyOnWriteArrayList<>();

        void onAny(@Observes LeadershipChanged change) {
            all.add(change);
        }

        void onJobs(@Observes @Election("jobs") LeadershipChanged change) {
            jobsOnly.add(change);
        }
    }
}
