package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.runtime.DatasourceConnectOptions;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.credentials.CredentialsProvider;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.reactive.datasource.ReactiveDataSource;
import io.quarkus.reactive.pg.client.PgPoolCreator;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgPool;
import io.vertx.sqlclient.Pool;

/**
 * Guards the mirror of Quarkus' own translation: with many datasource settings at once, the connect options the
 * election reads equal those Quarkus hands the pool, as a {@link PgPoolCreator} receives them, URL by URL and setting
 * by setting (the credentials provider's user and password included, which the election asks for per session).
 */
class DatasourceConnectOptionsTest {

    private static final String DEFAULT = "quarkus.datasource.";
    private static final String OTHER = "quarkus.datasource.\"other\".";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(CapturingCreator.class, OtherCapturingCreator.class,
            FixedCredentials.class)
            .overrideConfigKey("quarkus.leader.enabled", "false") // nothing connects: only the options are compared
            .overrideConfigKey(DEFAULT + "reactive.url", "postgresql://db-1.example.invalid:5433/app?sslmode=require,"
                    + " vertx-reactive:postgresql://db-2.example.invalid/app")
            .overrideConfigKey(DEFAULT + "username", "configured-user")
            .overrideConfigKey(DEFAULT + "password", "configured-password")
            .overrideConfigKey(DEFAULT + "credentials-provider", "app-db")
            .overrideConfigKey(DEFAULT + "credentials-provider-name", FixedCredentials.NAME)
            .overrideConfigKey(DEFAULT + "reactive.postgresql.ssl-mode", "verify-full")
            .overrideConfigKey(DEFAULT + "reactive.hostname-verification-algorithm", "HTTPS")
            .overrideConfigKey(DEFAULT + "reactive.trust-certificate-pem", "true")
            .overrideConfigKey(DEFAULT + "reactive.trust-certificate-pem.certs", "/etc/app/ca-1.crt,/etc/app/ca-2.crt")
            .overrideConfigKey(DEFAULT + "reactive.key-certificate-pfx", "true")
            .overrideConfigKey(DEFAULT + "reactive.key-certificate-pfx.path", "/etc/app/client.p12")
            .overrideConfigKey(DEFAULT + "reactive.key-certificate-pfx.password", "pfx-secret")
            .overrideConfigKey(DEFAULT + "reactive.additional-properties.search_path", "leader,public")
            .overrideConfigKey(DEFAULT + "reactive.additional-properties.application_name", "app")
            .overrideConfigKey(DEFAULT + "reactive.cache-prepared-statements", "false")
            .overrideConfigKey(DEFAULT + "reactive.postgresql.pipelining-limit", "7")
            .overrideConfigKey(DEFAULT + "reactive.postgresql.use-layer7-proxy", "true")
            .overrideConfigKey(DEFAULT + "reactive.reconnect-attempts", "3")
            .overrideConfigKey(DEFAULT + "reactive.reconnect-interval", "2s")
            .overrideConfigKey(OTHER + "db-kind", "postgresql")
            .overrideConfigKey(OTHER + "reactive.url", TestPostgres.url())
            .overrideConfigKey(OTHER + "reactive.postgresql.ssl-mode", "require")
            .overrideConfigKey(OTHER + "reactive.trust-all", "true")
            .overrideConfigKey(OTHER + "reactive.trust-certificate-jks", "true")
            .overrideConfigKey(OTHER + "reactive.trust-certificate-jks.path", "/etc/app/trust.jks")
            .overrideConfigKey(OTHER + "reactive.trust-certificate-jks.password", "jks-secret")
            .overrideConfigKey(OTHER + "reactive.key-certificate-pem", "true")
            .overrideConfigKey(OTHER + "reactive.key-certificate-pem.keys", "/etc/app/client.key")
            .overrideConfigKey(OTHER + "reactive.key-certificate-pem.certs", "/etc/app/client.crt");

    @Inject
    Config config;

    @Inject
    Vertx vertx;

    @Inject
    CapturingCreator defaultCreator;

    @Inject
    @ReactiveDataSource("other")
    OtherCapturingCreator otherCreator;

    @Inject
    Pool defaultPool;

    @Inject
    @ReactiveDataSource("other")
    Pool otherPool;

    @Test
    void theElectionReadsWhatThePoolGets() {
        defaultPool.size(); // the pools are made on first use
        otherPool.size();
        assertSame(DataSourceUtil.DEFAULT_DATASOURCE_NAME, defaultCreator.received());
        assertSame("other", otherCreator.received());
        // what the election adds to the pool's settings comes from the provider, for each session
        assertThat(defaultCreator.received().get(0).getUser()).isEqualTo("provided-user");
    }

    private void assertSame(String datasource, List<PgConnectOptions> pools) {
        DatasourceConnectOptions read = DatasourceConnectOptions.of(datasource, config);
        List<PgConnectOptions> election = read.all();
        assertThat(election).as("connect options of %s, one per URL", datasource).hasSameSizeAs(pools);
        List<PgConnectOptions> sessions = TestPostgres.await(read.session()
                .withCredentials(vertx.getOrCreateContext(), election, Duration.ofSeconds(5)));
        for (int i = 0; i < pools.size(); i++) {
            PgConnectOptions withCredentials = sessions.get(i);
            PgConnectOptions pool = pools.get(i);
            assertThat(withCredentials.toJson().encodePrettily()).as("%s, URL %d", datasource, i)
                    .isEqualTo(pool.toJson().encodePrettily());
            // the TLS options, in case the JSON form leaves any of them out
            assertThat(json(withCredentials.getTrustOptions())).isEqualTo(json(pool.getTrustOptions()));
            assertThat(json(withCredentials.getKeyCertOptions())).isEqualTo(json(pool.getKeyCertOptions()));
            assertThat(withCredentials.getSslMode()).isEqualTo(pool.getSslMode());
            assertThat(withCredentials.isTrustAll()).isEqualTo(pool.isTrustAll());
            assertThat(withCredentials.getHostnameVerificationAlgorithm())
                    .isEqualTo(pool.getHostnameVerificationAlgorithm());
            assertThat(withCredentials.getProperties()).isEqualTo(pool.getProperties());
        }
    }

    private static String json(Object options) {
        if (options == null) {
            return "none";
        }
        try {
            return options.getClass().getSimpleName() + " "
                    + ((JsonObject) options.getClass().getMethod("toJson").invoke(options)).encode();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Keeps the connect options Quarkus built for the default datasource's pool. */
    @Singleton
    public static class CapturingCreator implements PgPoolCreator {

        private final List<PgConnectOptions> received = new CopyOnWriteArrayList<>();

        List<PgConnectOptions> received() {
            return received;
        }

        @Override
        public PgPool create(Input input) {
            input.pgConnectOptionsList().forEach(options -> received.add(new PgConnectOptions(options)));
            return PgPool.pool(input.vertx(), new PgConnectOptions(), input.poolOptions()); // never connects here
        }
    }

    /** The same, for the datasource "other". */
    @Singleton
    @ReactiveDataSource("other")
    public static class OtherCapturingCreator extends CapturingCreator {
    }

    @ApplicationScoped
    @Named(FixedCredentials.NAME)
    public static class FixedCredentials implements CredentialsProvider {

        static final String NAME = "fixed-credentials";

        @Override
        public Map<String, String> getCredentials(String credentialsProviderName) {
            return Map.of(USER_PROPERTY_NAME, "provided-user",
                    PASSWORD_PROPERTY_NAME, "provided-" + credentialsProviderName);
        }
    }
}
