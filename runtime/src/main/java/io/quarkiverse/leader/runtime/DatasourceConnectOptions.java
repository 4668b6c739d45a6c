package io.quarkiverse.leader.runtime;

import static io.quarkus.vertx.core.runtime.SSLConfigHelper.configureJksKeyCertOptions;
import static io.quarkus.vertx.core.runtime.SSLConfigHelper.configureJksTrustOptions;
import static io.quarkus.vertx.core.runtime.SSLConfigHelper.configurePemKeyCertOptions;
import static io.quarkus.vertx.core.runtime.SSLConfigHelper.configurePemTrustOptions;
import static io.quarkus.vertx.core.runtime.SSLConfigHelper.configurePfxKeyCertOptions;
import static io.quarkus.vertx.core.runtime.SSLConfigHelper.configurePfxTrustOptions;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.microprofile.config.Config;

import io.quarkus.credentials.CredentialsProvider;
import io.quarkus.credentials.runtime.CredentialsProviderFinder;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.datasource.runtime.DataSourceRuntimeConfig;
import io.quarkus.datasource.runtime.DataSourcesRuntimeConfig;
import io.quarkus.reactive.datasource.runtime.DataSourceReactiveRuntimeConfig;
import io.quarkus.reactive.datasource.runtime.DataSourcesReactiveRuntimeConfig;
import io.quarkus.reactive.pg.client.runtime.DataSourceReactivePostgreSQLConfig;
import io.quarkus.reactive.pg.client.runtime.DataSourcesReactivePostgreSQLConfig;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.smallrye.config.SmallRyeConfig;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

/**
 * The connect options that Quarkus gives the reactive PostgreSQL pool of a datasource, one per URL, read from the
 * datasource's configuration. This mirrors
 * {@code io.quarkus.reactive.pg.client.runtime.PgPoolRecorder#toPgConnectOptions} of Quarkus 3.33, which is private:
 * keep the two in step when Quarkus changes it (DatasourceConnectOptionsTest compares them). Unlike the pool's, these
 * options never hold the credentials provider's user and password: those are read for each connection, as the pool
 * reads them (see {@link SessionDatasource}).
 */
public final class DatasourceConnectOptions {

    /** What the pool of Quarkus 3.33 does when {@code cache-prepared-statements} is not set. */
    private static final boolean CACHE_PREPARED_STATEMENTS = true;

    private final List<PgConnectOptions> options;
    private final SessionDatasource session;

    private DatasourceConnectOptions(List<PgConnectOptions> options, SessionDatasource session) {
        this.options = options;
        this.session = session;
    }

    /**
     * The options of the reactive datasource {@code datasource} ({@link DataSourceUtil#DEFAULT_DATASOURCE_NAME} for the
     * default one), as the run-time configuration has them; no options at all when it has no {@code reactive.url}.
     */
    public static DatasourceConnectOptions of(String datasource, Config config) {
        SmallRyeConfig smallRye = config.unwrap(SmallRyeConfig.class);
        DataSourceRuntimeConfig common = smallRye.getConfigMapping(DataSourcesRuntimeConfig.class).dataSources()
                .get(datasource);
        DataSourceReactiveRuntimeConfig reactive = smallRye.getConfigMapping(DataSourcesReactiveRuntimeConfig.class)
                .dataSources().get(datasource).reactive();
        DataSourceReactivePostgreSQLConfig postgresql = smallRye
                .getConfigMapping(DataSourcesReactivePostgreSQLConfig.class).dataSources().get(datasource).reactive()
                .postgresql();
        String prefix = prefix(datasource);
        List<PgConnectOptions> options = new ArrayList<>();
        for (String configured : reactive.url().orElse(List.of())) {
            // as Quarkus does, to ease migrations
            String url = configured.matches("^vertx-reactive:postgre(?:s|sql)://.*$")
                    ? configured.substring("vertx-reactive:".length())
                    : configured;
            try {
                options.add(PgConnectOptions.fromUri(url));
            } catch (RuntimeException e) {
                // without its user info, which may hold a password
                throw new ConfigurationException("Invalid " + prefix + "reactive.url '"
                        + url.replaceFirst("//[^/@]*@", "//...@") + "': expected postgresql://host:port/database");
            }
        }
        for (PgConnectOptions each : options) {
            common.username().ifPresent(each::setUser);
            common.password().ifPresent(each::setPassword);
            each.setCachePreparedStatements(reactive.cachePreparedStatements().orElse(CACHE_PREPARED_STATEMENTS));
            postgresql.pipeliningLimit().ifPresent(each::setPipeliningLimit);
            if (postgresql.sslMode().isPresent()) {
                SslMode sslMode = postgresql.sslMode().get();
                each.setSslMode(sslMode);
                if (sslMode == SslMode.VERIFY_FULL
                        && "NONE".equalsIgnoreCase(reactive.hostnameVerificationAlgorithm())) {
                    throw new ConfigurationException(prefix + "reactive.postgresql.ssl-mode is verify-full, which"
                            + " checks the server's host name, but " + prefix
                            + "reactive.hostname-verification-algorithm is NONE: set it to HTTPS (or LDAPS), or use"
                            + " ssl-mode verify-ca");
                }
            }
            each.setUseLayer7Proxy(postgresql.useLayer7Proxy());
            each.setTrustAll(reactive.trustAll());
            configurePemTrustOptions(each, reactive.trustCertificatePem());
            configureJksTrustOptions(each, reactive.trustCertificateJks());
            configurePfxTrustOptions(each, reactive.trustCertificatePfx());
            configurePemKeyCertOptions(each, reactive.keyCertificatePem());
            configureJksKeyCertOptions(each, reactive.keyCertificateJks());
            configurePfxKeyCertOptions(each, reactive.keyCertificatePfx());
            each.setReconnectAttempts(reactive.reconnectAttempts());
            each.setReconnectInterval(reactive.reconnectInterval().toMillis());
            String algorithm = reactive.hostnameVerificationAlgorithm();
            each.setHostnameVerificationAlgorithm("NONE".equalsIgnoreCase(algorithm) ? "" : algorithm);
            reactive.additionalProperties().forEach(each::addProperty);
            each.setMetricsName("postgresql|" + datasource);
        }
        return new DatasourceConnectOptions(options, new SessionDatasource(datasource, credentialsProvider(common,
                prefix), common.credentialsProvider().orElse(null)));
    }

    /** How many URLs the reactive datasource {@code datasource} has. */
    static int urls(String datasource, Config config) {
        return config.unwrap(SmallRyeConfig.class).getConfigMapping(DataSourcesReactiveRuntimeConfig.class).dataSources()
                .get(datasource).reactive().url().map(List::size).orElse(0);
    }

    /** The provider bean, looked up as Quarkus does; a missing one fails start-up, not every session. */
    private static CredentialsProvider credentialsProvider(DataSourceRuntimeConfig common, String prefix) {
        if (common.credentialsProvider().isEmpty()) {
            return null;
        }
        try {
            return CredentialsProviderFinder.find(common.credentialsProviderName().orElse(null));
        } catch (RuntimeException e) {
            throw new ConfigurationException(prefix + "credentials-provider is set, but no credentials provider bean"
                    + common.credentialsProviderName().map(n -> " named '" + n + "'").orElse("") + " can be used ("
                    + e.getMessage() + "): set " + prefix + "credentials-provider-name to the @Named name of an"
                    + " io.quarkus.credentials.CredentialsProvider bean");
        }
    }

    /** {@code quarkus.datasource.} or {@code quarkus.datasource."name".}: the prefix of a datasource's properties. */
    static String prefix(String datasource) {
        return DataSourceUtil.isDefault(datasource) ? "quarkus.datasource."
                : "quarkus.datasource.\"" + datasource + "\".";
    }

    /** The options of every URL, in the order they are configured; copies, free to change. */
    public List<PgConnectOptions> all() {
        return options.stream().map(PgConnectOptions::new).toList();
    }

    /** The datasource's side of a session: its credentials provider, and the settings to name when one fails. */
    public SessionDatasource session() {
        return session;
    }
}
