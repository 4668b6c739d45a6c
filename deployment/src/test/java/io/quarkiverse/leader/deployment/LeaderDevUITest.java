package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.devui.tests.DevUIJsonRPCTest;
import io.quarkus.test.QuarkusDevModeTest;
import io.vertx.pgclient.PgConnection;

/**
 * The Dev UI card's service, in dev mode: it lists each election with its role, leader and methods, and sends a test
 * notification.
 */
class LeaderDevUITest extends DevUIJsonRPCTest {

    @RegisterExtension
    static final QuarkusDevModeTest TEST = new QuarkusDevModeTest()
            .withApplicationRoot(jar -> jar.addClasses(Handler.class).addAsResource(new StringAsset(String.join("\n",
                    "quarkus.datasource.db-kind=postgresql",
                    "quarkus.datasource.devservices.enabled=false",
                    "quarkus.datasource.reactive.url=" + TestPostgres.url(),
                    "quarkus.leader.lock=7231101",
                    "quarkus.leader.instance-id=devui-test",
                    "quarkus.leader.jobs.lock=7231102")), "application.properties"));

    LeaderDevUITest() {
        super("quarkus-leader");
    }

    @Test
    void listsTheElectionsAndSendsATestNotification() throws Exception {
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
        assertThat(byDefault.get("methods").get(0).get("channel").asText()).isEqualTo("devui_test");
        assertThat(byDefault.get("methods").get(0).get("method").asText()).endsWith("Handler#handle(String)");
        JsonNode jobs = elections.get(1);
        assertThat(jobs.get("name").asText()).isEqualTo("jobs");
        assertThat(jobs.get("lock").asText()).isEqualTo("7231102");
        assertThat(jobs.get("methods")).isEmpty();

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

    public static class Handler {

        @OnLeaderNotification("devui_test")
        void handle(String payload) {
        }
    }
}
