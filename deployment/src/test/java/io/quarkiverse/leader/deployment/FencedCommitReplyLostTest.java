package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.ReplyDroppingProxy;
import io.quarkiverse.leader.test.Sockets;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A fenced transaction whose COMMIT reached the server but whose answer was lost with the connection: the outcome is
 * looked up by the transaction's id, and the work's result stands, committed once.
 */
class FencedCommitReplyLostTest {

    static final ReplyDroppingProxy PROXY = ReplyDroppingProxy.shared(TestPostgres.url());

    static {
        TestPostgres.sql("CREATE TABLE IF NOT EXISTS fencing_test_writes (term bigint NOT NULL, marker text NOT NULL)");
    }

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(ReplyDroppingProxy.class, Sockets.class)
            .overrideConfigKey("quarkus.datasource.reactive.url", PROXY.url());

    @Inject
    LeaderElection election;

    @Test
    void aCommitWhoseAnswerWasLostIsFoundCommitted() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        long term = election.term().orElseThrow();
        String marker = "reply lost@" + election.lock();

        PROXY.dropTheReplyToTheNextCommit();
        Long result = election.fenced(conn -> conn.preparedQuery("INSERT INTO fencing_test_writes (term, marker)"
                + " VALUES ($1, $2) RETURNING term").execute(Tuple.of(term, marker))
                .map(rows -> rows.iterator().next().getLong(0))).await().atMost(Duration.ofSeconds(15));

        assertThat(PROXY.droppedReplies()).as("the answer to COMMIT was lost on its way").isEqualTo(1);
        assertThat(result).isEqualTo(term);
        assertThat(TestPostgres.sql("SELECT count(*) FROM fencing_test_writes WHERE marker = $1", marker).get(0)
                .getLong(0)).isEqualTo(1);
    }
}
