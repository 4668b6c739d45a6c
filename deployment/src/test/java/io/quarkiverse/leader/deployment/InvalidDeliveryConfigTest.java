package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Delivery settings the mailboxes cannot run with fail start-up, all at once, each naming its property and what is
 * valid; a channel setting for a channel that no method of the election listens on names the election's channels.
 */
class InvalidDeliveryConfigTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Handlers.class)
            .overrideConfigKey("quarkus.application.name", "invalid-delivery-test")
            .overrideConfigKey("quarkus.leader.delivery.queue-size", "0")
            .overrideConfigKey("quarkus.leader.delivery.max-concurrency", "0")
            .overrideConfigKey("quarkus.leader.delivery.handler-timeout", "0s")
            .overrideConfigKey("quarkus.leader.delivery.channels.orders.queue-size", "-1")
            .overrideConfigKey("quarkus.leader.delivery.channels.ordrs.overflow", "drop-newest")
            // the only setting of the election 'jobs': a delivery setting declares an election as any other does
            .overrideConfigKey("quarkus.leader.jobs.delivery.channels.reports.max-concurrency", "4")
            .assertException(e -> assertThat(e).hasStackTraceContaining(
                    "quarkus.leader.delivery.queue-size must be at least 1, got 0")
                    .hasStackTraceContaining("quarkus.leader.delivery.max-concurrency must be at least 1, got 0")
                    .hasStackTraceContaining("quarkus.leader.delivery.handler-timeout must be at least 1ms, got PT0S")
                    .hasStackTraceContaining("quarkus.leader.delivery.channels.\"orders\".queue-size must be at least 1,"
                            + " got -1")
                    .hasStackTraceContaining("quarkus.leader.delivery.channels.\"ordrs\".overflow is set for the channel"
                            + " 'ordrs', which no @OnLeaderNotification method of the leader election listens on; its"
                            + " channels are [orders, raw]")
                    .hasStackTraceContaining("quarkus.leader.\"jobs\".delivery.channels.\"reports\".max-concurrency is"
                            + " set for the channel 'reports', which no @OnLeaderNotification method of the leader"
                            + " election 'jobs' listens on; its channels are [work]"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }

    static class Handlers {

        @OnLeaderNotification("orders")
        void orders(String payload) {
        }

        @OnLeaderNotification("raw")
        void raw(String payload) {
        }

        @OnLeaderNotification(value = "work", election = "jobs")
        void work(String payload) {
        }
    }
}
