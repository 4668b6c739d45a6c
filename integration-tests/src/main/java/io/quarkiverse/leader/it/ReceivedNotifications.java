package io.quarkiverse.leader.it;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;

import io.quarkiverse.leader.OnLeaderNotification;

/**
 * The sample's handlers: they keep, per channel, the payloads this instance handled, in order.
 */
@ApplicationScoped
public class ReceivedNotifications {

    private final ConcurrentMap<String, List<JsonNode>> received = new ConcurrentHashMap<>();

    @Inject
    ObjectMapper mapper;

    @Inject
    HandledMessages handled;

    @OnLeaderNotification("events")
    void onEvent(Event event) {
        record("events", mapper.valueToTree(event));
    }

    @OnLeaderNotification("shipments")
    void onShipment(Shipment shipment) {
        record("shipments", mapper.valueToTree(shipment));
    }

    @OnLeaderNotification("raw")
    void onRaw(String payload) {
        JsonNode json;
        try {
            json = mapper.readTree(payload);
        } catch (JsonProcessingException e) {
            json = TextNode.valueOf(payload);
        }
        record("raw", json);
    }

    /** A durable channel: its messages wait in PostgreSQL for a leader and reach it at least once. */
    @OnLeaderNotification(value = "orders", durable = true)
    void onOrder(JsonNode order) {
        handled.record("orders", order.path("id").asText());
        record("orders", order);
    }

    /** The named election "reports" has a leader of its own, which handles this channel. */
    @OnLeaderNotification(value = "reports", election = "reports")
    void onReport(JsonNode report) {
        record("reports", report);
    }

    List<JsonNode> on(String channel) {
        return received.getOrDefault(channel, List.of());
    }

    private void record(String channel, JsonNode payload) {
        received.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>()).add(payload);
    }
}
