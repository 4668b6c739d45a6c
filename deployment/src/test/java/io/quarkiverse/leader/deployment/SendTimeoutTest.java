package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.SendTimeoutException;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;

/**
 * A server that accepts connections and never answers: {@code notifyAndAwait} gives up after {@code send-timeout},
 * naming it, instead of waiting for the pool's own connect timeout (a minute) or for ever.
 */
class SendTimeoutTest {

    static final ServerSocket SILENT = silentServer();

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create()
            .overrideConfigKey("quarkus.leader.enabled", "false")
            .overrideConfigKey("quarkus.leader.send-timeout", "500ms")
            .overrideConfigKey("quarkus.datasource.reactive.url",
                    "postgresql://postgres@127.0.0.1:" + SILENT.getLocalPort() + "/silent");

    @Inject
    LeaderElection election;

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aSilentServerFailsTheSendWithinTheTimeout() {
        assertThatThrownBy(() -> election.notifyAndAwait("silent", "never accepted"))
                .isInstanceOf(SendTimeoutException.class)
                .hasMessageContaining("channel 'silent'")
                .hasMessageContaining("quarkus.leader.send-timeout");
    }

    private static ServerSocket silentServer() {
        try {
            return new ServerSocket(0, 50, InetAddress.getLoopbackAddress()); // connections queue, nothing answers
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
