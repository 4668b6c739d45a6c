package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.devui.tests.DevUIJsonRPCTest;
import io.quarkus.test.QuarkusDevModeTest;
import io.restassured.RestAssured;
import io.vertx.pgclient.PgConnection;

/**
 * The Dev UI card's service, in dev mode: it lists each election with its role, leader and methods, and sends a test
 * notification; it lists the durable channels with the leader's backlog and their dead letters, and redelivers one.
 */
class LeaderDevUITest extends DevUIJsonRPCTest {

    static final String TABLE = "devui_test_messages";
    static final String FUNCTION = "devui_test_send";
    static final String JOBS_TABLE = "devui_jobs_messages";
    static final String JOBS_FUNCTION = "devui_jobs_send";
    /** Set by the test once the dead letter's method is to succeed; the application runs in this JVM. */
    static final String REPAIRED = "leader.devui-test.repaired";

    @RegisterExtension
    static final QuarkusDevModeTest TEST = new QuarkusDevModeTest()
            .withApplicationRoot(jar -> jar.addClasses(Handler.class, Stuck.class).addAsResource(new StringAsset(
                    String.join("\n",
                            "quarkus.datasource.db-kind=postgresql",
                            "quarkus.datasource.devservices.enabled=false",
                            "quarkus.datasource.reactive.url=" + TestPostgres.url(),
                            "quarkus.leader.lock=7231101",
                            "quarkus.leader.instance-id=devui-test",
                            "quarkus.leader.durable.table=" + TestPostgres.freshDurableStorage(TABLE, FUNCTION),
                            "quarkus.leader.durable.function=" + FUNCTION,
                            "quarkus.leader.durable.max-attempts=1",
                            "quarkus.leader.jobs.lock=7231102",
                            "quarkus.leader.jobs.durable.table=" + TestPostgres.freshDurableStorage(JOBS_TABLE,
                                    JOBS_FUNCTION),
                            "quarkus.leader.jobs.durable.function=" + JOBS_FUNCTION,
                            // the first message's retry waits for an hour, holding the ordered channel's backlog up
                            "quarkus.leader.jobs.durable.retry-initial-delay=1h",
                            "quarkus.leader.jobs.durable.retry-max-delay=1h",
                            // the backlog is counted at every tenth poll
                            "quarkus.leader.jobs.durable.poll-interval=100ms")),
                    "application.properties"));

    LeaderDevUITest() {
        super("quarkus-leader");
    }

    /** One test: each test method of a dev-mode test starts the application anew, which takes long here. */
    @Test
    void theCardsPages() throws Exception {
        listsTheElectionsAndSendsATestNotification();
        showsADeadLetterAndRedeliversIt();
        showsTheBacklogAsTheLeaderCountedIt();
    }

    private void listsTheElectionsAndSendsATestNotification() throws Exception {
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
            JsonNode elections = executeJsonRPCMethod("getElections");
            assertThat(elections).hasSize(2);
            assertThat(elections.get(0).get("role").asText()).isEqualTo("leader");
        });
        JsonNode elections = executeJsonRPCMethod("getElections");
        JsonNode byDefault = elections.get(0);
        assertThat(byDefault.get("name").asText()).isEqualTo("<default>");
        assertThat(byDefault.get("lock").asText()).isEqualTo("7231101");
        assertThat(byDefault.get("instanceId").asText()).isEqualTo("devui-test");
        assertThat(byDefault.get("leader").asText()).isEqualTo("devui-test");
        assertThat(byDefault.get("term").asText()).isNotEmpty();
        assertThat(byDefault.get("methods").get(0).get("channel").asText()).isEqualTo("devui_dead");
        assertThat(byDefault.get("methods").get(0).get("durable").asBoolean()).isTrue();
        assertThat(byDefault.get("methods").get(1).get("channel").asText()).isEqualTo("devui_test");
        assertThat(byDefault.get("methods").get(1).get("method").asText()).endsWith("Handler#handle(String)");
        assertThat(byDefault.get("methods").get(1).get("durable").asBoolean()).isFalse();
        JsonNode jobs = elections.get(1);
        assertThat(jobs.get("name").asText()).isEqualTo("jobs");
        assertThat(jobs.get("lock").asText()).isEqualTo("7231102");
        assertThat(jobs.get("methods")).singleElement()
                .satisfies(m -> assertThat(m.get("method").asText()).endsWith("Stuck#hold(String)"));
        // the pages the card links to are served
        for (String page : List.of("qwc-leader-elections.js", "qwc-leader-dead-letters.js")) {
            RestAssured.get("/q/dev-ui/quarkus-leader/" + page).then().statusCode(200)
                    .body(containsString("customElements.define('" + page.replace(".js", "") + "'"));
        }

        PgConnection listener = TestPostgres.connect();
        List<String> received = new CopyOnWriteArrayList<>();
        try {
            listener.notificationHandler(n -> received.add(n.getPayload()));
            TestPostgres.await(listener.query("LISTEN devui_test").execute());
            JsonNode sent = executeJsonRPCMethod("sendNotification",
                    Map.of("election", "<default>", "channel", "devui_test", "payload", "{\"from\":\"dev ui\"}"));
            assertThat(sent.asText()).isEqualTo("Sent on channel devui_test (<default>)");
            await().untilAsserted(() -> assertThat(received).containsExactly("{\"from\":\"dev ui\"}"));
        } finally {
            listener.close();
        }
    }

    private void showsADeadLetterAndRedeliversIt() throws Exception {
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> executeJsonRPCMethod("getElections").get(0).get("role").asText().equals("leader"));
        String payload = "{\"order\": \"" + "x".repeat(300) + "\"}";
        String id = Long.toString(TestPostgres.sql("SELECT " + FUNCTION + "('devui_dead', $1)", payload).get(0).getLong(0));

        JsonNode letter = awaitDeadLetter("call 1 failed");
        assertThat(letter.get("id").asText()).isEqualTo(id);
        assertThat(letter.get("attempts").asInt()).isEqualTo(1);
        assertThat(letter.get("shortened").asBoolean()).isTrue();
        assertThat(letter.get("payloadLength").asInt()).isEqualTo(payload.length());
        assertThat(letter.get("payload").asText()).hasSize(121).isEqualTo(payload.substring(0, 120) + "…");
        assertThat(executeJsonRPCMethod("getDeadLetterPayload",
                Map.of("election", "<default>", "channel", "devui_dead", "id", id)).asText()).isEqualTo(payload);
        assertThat(executeJsonRPCMethod("getDeadLetterCount").asText()).isEqualTo("1");

        // back in the flow: the method is called again, and fails again
        JsonNode outcome = executeJsonRPCMethod("redeliver", Map.of("election", "<default>", "id", id));
        assertThat(outcome.get("redelivered").asBoolean()).isTrue();
        assertThat(outcome.get("message").asText()).isEqualTo("Message " + id
                + " of election <default> is pending again: the leader hands it to its method");
        assertThat(awaitDeadLetter("call 2 failed").get("attempts").asInt()).isEqualTo(1);

        System.setProperty(REPAIRED, "true");
        try {
            assertThat(executeJsonRPCMethod("redeliver", Map.of("election", "<default>", "id", id))
                    .get("redelivered").asBoolean()).isTrue();
            // handled: its row is deleted once the method has succeeded
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(TestPostgres.sql(
                    "SELECT count(*) FROM " + TABLE + " WHERE id = $1", Long.parseLong(id)).get(0).getLong(0)).isZero());
        } finally {
            System.clearProperty(REPAIRED);
        }
        assertThat(deadLetters()).isEmpty();
        assertThat(executeJsonRPCMethod("getDeadLetterCount").asText()).isEqualTo("0");
        JsonNode again = executeJsonRPCMethod("redeliver", Map.of("election", "<default>", "id", id));
        assertThat(again.get("redelivered").asBoolean()).isFalse();
        assertThat(again.get("message").asText()).isEqualTo("No dead letter " + id
                + " in election <default>: it was redelivered or deleted meanwhile");
    }

    private void showsTheBacklogAsTheLeaderCountedIt() throws Exception {
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> executeJsonRPCMethod("getElections").get(1).get("role").asText().equals("leader"));
        for (int i = 0; i < 3; i++) {
            TestPostgres.sql("SELECT " + JOBS_FUNCTION + "('devui_backlog', $1)", "job-" + i);
        }
        // the first one fails and waits an hour for its retry: the count includes it
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(durableChannel("jobs", "devui_backlog")
                .path("backlog").asLong()).isEqualTo(3));
        JsonNode channel = durableChannel("jobs", "devui_backlog");
        assertThat(channel.get("role").asText()).isEqualTo("leader");
        assertThat(channel.get("method").asText()).endsWith("Stuck#hold(String)");
        assertThat(channel.get("ordered").asBoolean()).isTrue();
        assertThat(channel.get("exactlyOnce").asBoolean()).isFalse();
        assertThat(executeJsonRPCMethod("getDeadLetters",
                Map.of("election", "jobs", "channel", "devui_backlog", "afterId", "0")).get("letters")).isEmpty();
    }

    private JsonNode awaitDeadLetter(String lastError) throws Exception {
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> assertThat(deadLetters())
                .singleElement().satisfies(l -> assertThat(l.get("lastError").asText())
                        .isEqualTo("java.lang.IllegalStateException: " + lastError)));
        return deadLetters().get(0);
    }

    private JsonNode deadLetters() throws Exception {
        JsonNode page = executeJsonRPCMethod("getDeadLetters",
                Map.of("election", "<default>", "channel", "devui_dead", "afterId", "0"));
        assertThat(page.get("more").asBoolean()).isFalse();
        return page.get("letters");
    }

    private JsonNode durableChannel(String election, String channel) throws Exception {
        for (JsonNode c : executeJsonRPCMethod("getDurableChannels")) {
            if (c.get("election").asText().equals(election) && c.get("channel").asText().equals(channel)) {
                return c;
            }
        }
        throw new AssertionError("No durable channel " + channel + " of " + election);
    }

    public static class Handler {

        private final AtomicInteger calls = new AtomicInteger();

        @OnLeaderNotification("devui_test")
        void handle(String payload) {
        }

        @OnLeaderNotification(value = "devui_dead", durable = true)
        void fail(String payload) {
            int call = calls.incrementAndGet();
            if (!Boolean.getBoolean(REPAIRED)) {
                throw new IllegalStateException("call " + call + " failed");
            }
        }
    }

    public static class Stuck {

        @OnLeaderNotification(value = "devui_backlog", durable = true, election = "jobs")
        void hold(String payload) {
            throw new IllegalStateException("not today");
        }
    }
}
