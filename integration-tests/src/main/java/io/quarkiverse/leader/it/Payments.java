package io.quarkiverse.leader.it;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * An exactly-once channel: each payment ({@code {"id": "..."}}) becomes one row of {@code payment_effect}, written in
 * the fenced transaction that also acknowledges the message. A second insert of one payment would violate the primary
 * key and fail the call, so a duplicate effect cannot hide: it shows as a retried message and then a dead letter.
 */
@ApplicationScoped
public class Payments {

    static final String DDL = "CREATE TABLE IF NOT EXISTS payment_effect (payment_id text PRIMARY KEY, term bigint NOT NULL)";

    @Inject
    LeaderElection election;

    @Inject
    Pool pool;

    void createTable(@Observes StartupEvent start) {
        pool.query(DDL).execute()
                .onFailure().retry().atMost(2) // instances that start together race to create it; the loser finds it
                .await().atMost(Duration.ofSeconds(30));
    }

    @OnLeaderNotification(value = "payments", durable = true)
    Uni<Void> onPayment(JsonNode payment, SqlConnection connection) {
        String id = payment.path("id").asText(null);
        if (id == null || id.isEmpty()) {
            return Uni.createFrom().failure(new IllegalArgumentException(
                    "A payment needs a string \"id\", got: " + payment));
        }
        // a deposed leader has no term: its call fails and its transaction rolls back
        long term = election.term().orElseThrow(() -> new IllegalStateException(
                "Payment " + id + " reached a method whose instance no longer leads"));
        return connection.preparedQuery("INSERT INTO payment_effect (payment_id, term) VALUES ($1, $2)")
                .execute(Tuple.of(id, term)).replaceWithVoid();
    }
}
