package io.quarkiverse.leader.deployment;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import jakarta.inject.Inject;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.pgclient.PgConnection;

/**
 * The lock is held by a session of another role, whose state in pg_stat_activity the application's role may not read
 * (no pg_read_all_stats) nor end (no pg_signal_backend). The current leader is still read, from the term table;
 * eviction leaves that session alone and says once, at start-up, which role holds the lock and what to grant. Able to
 * read it but not to end it, eviction still leaves it alone, without trying and failing every heartbeat. With both
 * grants it evicts.
 */
class OtherRoleHolderTest {

    // fixed: the holder takes it before the application starts, in a database of this test's own
    private static final long LOCK = 7_231_101L;
    private static final String APP_ROLE = TestPostgres.role("app");
    private static final String HOLDER_ROLE = TestPostgres.role("holder");
    private static final String DATABASE = TestPostgres.database("roles", APP_ROLE);
    /** The SQLSTATE of pg_terminate_backend refused. */
    private static final String INSUFFICIENT_PRIVILEGE = "42501";
    private static PgConnection holder;

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.datasource.reactive.url", TestPostgres.url(DATABASE, APP_ROLE))
            .overrideConfigKey("quarkus.leader.lock", Long.toString(LOCK))
            .overrideConfigKey("quarkus.leader.evict-hung-leader", "true")
            .overrideConfigKey("quarkus.leader.lease", "1s")
            .overrideConfigKey("quarkus.leader.heartbeat", "200ms")
            .setBeforeAllCustomizer(() -> {
                holder = TestPostgres.connect(TestPostgres.url(DATABASE, HOLDER_ROLE), "leader:someone");
                TestPostgres.holdLock(holder, LOCK);
            })
            .setAfterAllCustomizer(() -> {
                holder.close();
                TestPostgres.dropDatabase(DATABASE);
                TestPostgres.dropRole(APP_ROLE);
                TestPostgres.dropRole(HOLDER_ROLE);
            })
            // a check that fails is logged at debug level
            .overrideConfigKey("quarkus.log.category.\"io.quarkiverse.leader.runtime.HungLeaderEviction\".level", "DEBUG")
            .setLogRecordPredicate(r -> r.getLevel().intValue() >= Level.WARNING.intValue()
                    && message(r).contains("GRANT") || message(r).contains(INSUFFICIENT_PRIVILEGE))
            .assertLogRecords(records -> {
                assertThat(records).extracting(OtherRoleHolderTest::message)
                        .filteredOn(m -> m.contains(INSUFFICIENT_PRIVILEGE))
                        .as("attempts to end a session this role may not end").isEmpty();
                assertThat(records).singleElement().satisfies(r -> assertThat(message(r))
                        .contains("role " + HOLDER_ROLE)
                        .contains("GRANT pg_signal_backend, pg_read_all_stats TO " + APP_ROLE));
            });

    @Inject
    LeaderElection election;

    private static String message(LogRecord record) {
        return ((ExtLogRecord) record).getFormattedMessage();
    }

    @Test
    void readsTheLeaderLeavesTheSessionAloneAndEvictsOnceGranted() {
        String admin = TestPostgres.url(DATABASE, TestPostgres.user());
        int pid = TestPostgres.sqlIn(admin, "SELECT pid FROM pg_stat_activity WHERE usename = $1", HOLDER_ROLE).get(0)
                .getInteger(0);
        await().atMost(Duration.ofSeconds(15)).until(() -> TestPostgres.sqlIn(admin,
                "SELECT to_regclass('quarkus_leader_term') IS NOT NULL").get(0).getBoolean(0));
        TestPostgres.sqlIn(admin, "INSERT INTO quarkus_leader_term VALUES ($1, 7, 'someone', now())", LOCK);

        assertThat(election.currentLeader().await().atMost(Duration.ofSeconds(10)))
                .hasValueSatisfying(l -> assertThat(l.instanceId()).isEqualTo("someone"));
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'Leader election' }.data.role", equalTo("follower"))
                .body("checks.find { it.name == 'Leader election' }.data.leader", equalTo("someone"))
                .body("checks.find { it.name == 'Leader election' }.data.term", equalTo("7"));
        // idle far longer than the eviction threshold (1.2 s), and left alone
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(8))
                .until(() -> TestPostgres.alive(pid) && !election.isLeader());

        // its state now in sight, but still not its to end: left alone, without a failing attempt every heartbeat
        TestPostgres.sql("GRANT pg_read_all_stats TO " + APP_ROLE);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(8))
                .until(() -> TestPostgres.alive(pid) && !election.isLeader());

        TestPostgres.sql("GRANT pg_signal_backend TO " + APP_ROLE);
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        assertThat(TestPostgres.alive(pid)).isFalse();
    }
}
