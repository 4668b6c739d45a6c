package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TlsPostgres;
import io.quarkus.credentials.CredentialsProvider;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.sqlclient.Row;

/**
 * The datasource's user and password come from a credentials provider bean, with no username or password in the
 * configuration: the election leads with them, and asks the provider again for its next session, so that a rotated
 * password is used without a restart.
 */
class TlsCredentialsProviderTest {

    static final String CLUSTER = "credentials";
    static final String SANS = "DNS:localhost,IP:127.0.0.1";

    @RegisterExtension
    static final TlsPostgres PG = TlsPostgres.start(CLUSTER, SANS);

    @RegisterExtension
    static final QuarkusUnitTest TEST = PG
            .verifyFull(LeaderUnitTest.create(TlsPostgres.class, RotatingCredentials.class))
            .overrideConfigKey("quarkus.datasource.credentials-provider", "leader-db")
            .overrideConfigKey("quarkus.datasource.credentials-provider-name", RotatingCredentials.NAME);

    @Inject
    LeaderElection election;

    @Inject
    @Named(RotatingCredentials.NAME)
    RotatingCredentials credentials;

    @Test
    void leadsWithTheProvidersCredentialsAndAsksForEachSession() {
        await().atMost(Duration.ofSeconds(30)).until(election::isLeader);
        assertThat(credentials.asked()).as("times the provider was asked").isPositive();
        assertThat(credentials.names()).containsOnly("leader-db");
        int firstPid = electionBackend().getInteger("pid");

        String rotated = "rotated-" + PG.password();
        PG.sql("ALTER ROLE " + TlsPostgres.USER + " PASSWORD '" + rotated + "'");
        credentials.rotate(rotated);
        int askedBefore = credentials.asked();
        PG.sql("SELECT pg_terminate_backend($1)", firstPid);

        await().atMost(Duration.ofSeconds(30)).until(() -> election.isLeader() && sessions().size() == 1
                && sessions().get(0).getInteger("pid") != firstPid);
        assertThat(credentials.asked()).as("times the provider was asked").isGreaterThan(askedBefore);
        assertThat(electionBackend().getBoolean("ssl")).isTrue();
    }

    private Row electionBackend() {
        List<Row> sessions = sessions();
        assertThat(sessions).as("the election's session").hasSize(1);
        return sessions.get(0);
    }

    private List<Row> sessions() {
        return PG.sql("SELECT a.pid, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
                + " WHERE a.application_name = $1", "leader:" + election.instanceId());
    }

    /** Hands out the role's current password, as a secrets store would after a rotation. */
    @ApplicationScoped
    @Named(RotatingCredentials.NAME)
    public static class RotatingCredentials implements CredentialsProvider {

        static final String NAME = "rotating-credentials";

        private final AtomicInteger asked = new AtomicInteger();
        private final List<String> names = new CopyOnWriteArrayList<>();
        private volatile String password = TlsPostgres.start(CLUSTER, SANS).password();

        int asked() {
            return asked.get();
        }

        List<String> names() {
            return names;
        }

        void rotate(String newPassword) {
            password = newPassword;
        }

        @Override
        public Map<String, String> getCredentials(String credentialsProviderName) {
            asked.incrementAndGet();
            names.add(credentialsProviderName);
            return Map.of(USER_PROPERTY_NAME, TlsPostgres.USER, PASSWORD_PROPERTY_NAME, password);
        }
    }
}
