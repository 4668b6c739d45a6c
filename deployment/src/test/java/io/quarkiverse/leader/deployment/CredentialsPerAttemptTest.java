package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.deployment.TestElections.RecordingListener;
import io.quarkiverse.leader.runtime.ElectionOptions;
import io.quarkiverse.leader.runtime.ElectionSession;
import io.quarkiverse.leader.runtime.SessionDatasource;
import io.quarkiverse.leader.test.SlowProxy;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.credentials.CredentialsProvider;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

/**
 * A credentials provider that takes most of a lease to answer leaves each host of the walk its whole bound: it is
 * asked once for an attempt, with a bound of its own. Here the first host is down and the second lets a session in
 * only after most of a lease; asked for each host, the provider's time and the host's together would exceed the lease
 * and the election would never lead.
 */
class CredentialsPerAttemptTest {

    private static final long PROVIDER_DELAY_MS = 1200;
    private static final long CONNECT_DELAY_MS = 1200; // each below the lease (2 s), both together above it

    @RegisterExtension
    static final QuarkusUnitTest TEST = TestElections.sessionTest();

    @Inject
    Vertx vertx;

    @Test
    void aSlowProviderIsAskedOnceForTheWholeWalk() {
        SlowCredentials credentials = new SlowCredentials();
        try (SlowProxy slow = new SlowProxy(TestPostgres.url(), CONNECT_DELAY_MS)) {
            ElectionOptions options = TestElections.options("slow-credentials", TestPostgres.uniqueLock(),
                    List.of(nothingListening(), slow.url()),
                    SessionDatasource.withProvider("<default>", credentials, "slow"));
            RecordingListener listener = new RecordingListener();
            ElectionSession election = new ElectionSession(vertx, options, listener);
            TestPostgres.await(election.start());
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> listener.changes.contains(true));
                assertThat(credentials.asked.get()).as("times the provider was asked, at most once per attempt")
                        .isLessThanOrEqualTo(slow.accepted());
            } finally {
                TestPostgres.await(election.stop());
            }
        }
    }

    @Test
    void aProviderThatGivesNothingFailsTheAttemptWhichIsRetried() {
        NoCredentials credentials = new NoCredentials();
        ElectionOptions options = TestElections.options("no-credentials", TestPostgres.uniqueLock(),
                List.of(TestPostgres.url()), SessionDatasource.withProvider("<default>", credentials, "none"));
        ElectionSession election = new ElectionSession(vertx, options, new RecordingListener());
        TestPostgres.await(election.start());
        try {
            // each attempt fails with the provider named, and the next one asks again
            await().atMost(Duration.ofSeconds(20)).until(() -> credentials.asked.get() >= 3);
        } finally {
            TestPostgres.await(election.stop());
        }
    }

    /** The test database's URL on a loopback port that nothing listens on: a host that is down. */
    private static String nothingListening() {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        URI url = URI.create(TestPostgres.url());
        return url.getScheme() + "://" + url.getRawUserInfo() + "@127.0.0.1:" + port + url.getRawPath();
    }

    /** A provider that gives null instead of a map of credentials. */
    static final class NoCredentials implements CredentialsProvider {

        final AtomicInteger asked = new AtomicInteger();

        @Override
        public Map<String, String> getCredentials(String name) {
            asked.incrementAndGet();
            return null;
        }
    }

    /** The test database's user and password, after a delay. */
    static final class SlowCredentials implements CredentialsProvider {

        final AtomicInteger asked = new AtomicInteger();

        @Override
        public Map<String, String> getCredentials(String name) {
            asked.incrementAndGet();
            try {
                Thread.sleep(PROVIDER_DELAY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            PgConnectOptions url = PgConnectOptions.fromUri(TestPostgres.url());
            return url.getPassword() == null ? Map.of(USER_PROPERTY_NAME, url.getUser())
                    : Map.of(USER_PROPERTY_NAME, url.getUser(), PASSWORD_PROPERTY_NAME, url.getPassword());
        }
    }
}
