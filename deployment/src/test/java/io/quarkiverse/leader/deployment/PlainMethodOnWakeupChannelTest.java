package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A plain method on the channel that durable messages wake the leader with would get none of its notifications (the
 * leader takes them for wake-ups): start-up fails, naming the method and the setting.
 */
class PlainMethodOnWakeupChannelTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Methods.class)
            .overrideConfigKey("quarkus.leader.durable.wakeup-channel", "wake")
            .assertException(e -> assertThat(e).hasStackTraceContaining("PlainMethodOnWakeupChannelTest$Methods#onWake("
                    + "String) listens on channel 'wake', which is quarkus.leader.durable.wakeup-channel"));

    @Test
    void startupFails() {
        fail("start-up should have failed");
    }

    static class Methods {

        @OnLeaderNotification("wake")
        void onWake(String payload) {
        }

        @OnLeaderNotification(value = "orders", durable = true)
        void onOrder(String payload) {
        }
    }
}
