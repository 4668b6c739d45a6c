package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.test.LogCapture;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Vertx;

/**
 * An election whose sessions keep failing to connect leaves nothing of theirs behind: once it has stopped and its own
 * Vert.x has closed, a garbage collection finds no network client to close on a terminated event loop (which Netty
 * reports as "event executor terminated").
 */
class FailedConnectsLeaveNothingTest {

    private static final int ATTEMPTS = 10;

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest(LogCapture.class);

    @Test
    void noNetworkClientOutlivesTheElectionsVertx() throws Exception {
        try (LogCapture netty = LogCapture.warnings("io.netty");
                ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicInteger accepted = new AtomicInteger();
            Thread closer = new Thread(() -> closeEachConnection(server, accepted), "closes-each-connection");
            closer.setDaemon(true);
            closer.start();

            Vertx own = Vertx.vertx(); // as the election's own loop, closed right after the election
            ElectionSession election = new ElectionSession(own, TestElections.options("failed-connects",
                    TestPostgres.uniqueLock(), List.of("postgresql://postgres@127.0.0.1:" + server.getLocalPort()
                            + "/test")),
                    new RecordingListener());
            TestPostgres.await(election.start());
            await().atMost(Duration.ofSeconds(30)).until(() -> accepted.get() >= ATTEMPTS);
            TestPostgres.await(election.stop());
            TestPostgres.await(own.close());

            for (int i = 0; i < 3; i++) {
                System.gc();
                System.runFinalization();
            }
            assertThat(netty.messages()).as("what Netty reported after the election's Vert.x closed")
                    .noneMatch(message -> message.contains("event executor terminated")
                            || message.contains("Event loop shut down"));
        }
    }

    /** A server that takes each connection and closes it at once: every session attempt fails. */
    private static void closeEachConnection(ServerSocket server, AtomicInteger accepted) {
        while (!server.isClosed()) {
            try (Socket socket = server.accept()) {
                accepted.incrementAndGet();
            } catch (IOException e) {
                if (!server.isClosed()) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
