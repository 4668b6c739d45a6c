package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Every mistake in declaring durable methods fails the build, in one report naming the methods.
 */
class InvalidDurableMethodsTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Durable.class)
            .assertException(e -> assertThat(e).hasMessageContainingAll(
                    "Found 5 deployment problems",
                    "@OnLeaderNotification(durable = true) channel 'orders' has 2 durable methods in one election, and"
                            + " at most one is allowed",
                    Durable.class.getName() + "#first(String) and " + Durable.class.getName() + "#second(String)",
                    "@OnLeaderNotification method takes an io.vertx.mutiny.sqlclient.SqlConnection parameter but is not"
                            + " durable: only a method with durable = true gets the connection of a fenced transaction: "
                            + Durable.class.getName() + "#notDurable(String, io.vertx.mutiny.sqlclient.SqlConnection)",
                    "@OnLeaderNotification(durable = true) method with an io.vertx.mutiny.sqlclient.SqlConnection"
                            + " parameter must return Uni<Void>",
                    "not void: " + Durable.class.getName() + "#returnsVoid(String, io.vertx.mutiny.sqlclient.SqlConnection)",
                    "takes the io.vertx.mutiny.sqlclient.SqlConnection as its second parameter, after the payload",
                    Durable.class.getName() + "#connectionFirst(io.vertx.mutiny.sqlclient.SqlConnection, String)",
                    "@OnLeaderNotification channel 'orders' is durable", "so a method without durable = true would never"
                            + " be called on it: " + Durable.class.getName() + "#plain(String)"));

    @Test
    void buildFails() {
        fail("the build should have failed");
    }

    static class Durable {

        @OnLeaderNotification(value = "orders", durable = true)
        void first(String payload) {
        }

        @OnLeaderNotification(value = "orders", durable = true)
        void second(String payload) {
        }

        @OnLeaderNotification("orders")
        void plain(String payload) {
        }

        @OnLeaderNotification("plain")
        Uni<Void> notDurable(String payload, SqlConnection connection) {
            return Uni.createFrom().voidItem();
        }

        @OnLeaderNotification(value = "exactly-once", durable = true)
        void returnsVoid(String payload, SqlConnection connection) {
        }

        @OnLeaderNotification(value = "swapped", durable = true)
        Uni<Void> connectionFirst(SqlConnection connection, String payload) {
            return Uni.createFrom().voidItem();
        }
    }
}
