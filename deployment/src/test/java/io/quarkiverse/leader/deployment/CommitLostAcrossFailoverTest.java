package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.ReplicatedPostgres;
import io.quarkiverse.leader.test.ReplyDroppingProxy;
import io.quarkiverse.leader.test.Sockets;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A fenced transaction whose answer to COMMIT is lost while the primary fails over: the lookup of its outcome reaches
 * the promoted standby, on another timeline, where the transaction's id may belong to another transaction (the old
 * primary's last ones may never have reached it). Its outcome is in doubt there, and the caller gets the failure, never
 * a result for work that may be on no server.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.ReplicatedPostgres#installed", disabledReason = "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) in /usr/lib/postgresql/*/bin")
class CommitLostAcrossFailoverTest {

    // registered first: it stops after the application
    @RegisterExtension
    static final ReplicatedPostgres PG = ReplicatedPostgres.start("commit-lost-failover");

    static final ReplyDroppingProxy PROXY = ReplyDroppingProxy.shared(PG.primaryUrl());

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** The application_name of the pool's connections. */
    private static final String POOL = "vertx-pg-client";

    // the primary through the proxy first, then the standby, which is promoted during the test
    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.on(PROXY.url() + "," + PG.standbyUrl(), ReplicatedPostgres.class,
            TlsPostgres.class, ReplyDroppingProxy.class, Sockets.class)
            // after the failover, the lookup is the only user of the pool
            .overrideConfigKey("quarkus.leader.evict-hung-leader", "false")
            .overrideConfigKey("quarkus.leader.heartbeat", "1s")
            // longer than the failover: the COMMIT waits for its answer meanwhile
            .overrideConfigKey("quarkus.leader.lease", "15s");

    @Inject
    LeaderElection election;

    @Test
    void aCommitLostAcrossAFailoverIsInDoubt() {
        await().atMost(WAIT).until(election::isLeader);
        PG.sql(PG.primary(), "CREATE TABLE IF NOT EXISTS commit_lost_writes (marker text NOT NULL)");

        PROXY.holdTheConnection();
        PROXY.dropTheReplyToTheNextCommit();
        CompletableFuture<Long> fenced = election.fenced(conn -> conn
                .preparedQuery("INSERT INTO commit_lost_writes VALUES ($1)").execute(Tuple.of("lost"))
                .map(rows -> 1L)).subscribeAsCompletionStage();
        long poolSessions;
        try {
            await().atMost(WAIT).until(() -> PROXY.droppedReplies() == 1);
            PG.stopPrimary(); // its WAL is shipped before it stops: the standby has the commit too
            PG.promoteStandby();
            poolSessions = PG.sessions(PG.primary(), POOL);
        } finally {
            PROXY.release();
        }

        assertThatThrownBy(() -> fenced.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .as("the outcome of a COMMIT looked up on another timeline").isInstanceOf(ExecutionException.class);
        assertThat(PG.sessions(PG.primary(), POOL)).as("pool sessions on the promoted standby: the lookup asked there")
                .isGreaterThan(poolSessions);
        assertThat(PG.sql(PG.primary(), "SELECT count(*) FROM commit_lost_writes").get(0).getLong(0))
                .as("rows on the promoted standby: the commit reached it, and the lookup still may not trust its id")
                .isEqualTo(1);
    }
}
