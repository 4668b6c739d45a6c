package io.quarkiverse.leader.runtime;

import static io.quarkus.credentials.CredentialsProvider.PASSWORD_PROPERTY_NAME;
import static io.quarkus.credentials.CredentialsProvider.USER_PROPERTY_NAME;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLException;

import io.quarkus.credentials.CredentialsProvider;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VertxException;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.pgclient.SslMode;

/**
 * The datasource's side of an election session: the user and password of its credentials provider, read anew for each
 * session as the pool reads them for each connection, and the settings to name when a session cannot connect.
 */
public final class SessionDatasource {

    /** The SQLSTATEs of a password the server did not accept, and of a connection its pg_hba.conf turns away. */
    private static final String INVALID_PASSWORD = "28P01";
    private static final String INVALID_AUTHORIZATION = "28000";
    /** How the PostgreSQL client of Vert.x says that TLS failed. */
    private static final String HANDSHAKE_FAILED = "SSL handshake failed";
    private static final String NO_TLS = "Postgres Server does not handle SSL connection";

    private final String datasource;
    private final CredentialsProvider provider;
    private final String providerName;

    SessionDatasource(String datasource, CredentialsProvider provider, String providerName) {
        this.datasource = datasource;
        this.provider = provider;
        this.providerName = providerName;
    }

    /** A datasource whose user and password come from {@code provider}, asked with {@code providerName}. */
    public static SessionDatasource withProvider(String datasource, CredentialsProvider provider, String providerName) {
        return new SessionDatasource(datasource, provider, providerName);
    }

    /** A datasource whose user and password, if any, are in the connect options themselves. */
    public static SessionDatasource withoutProvider(String datasource) {
        return new SessionDatasource(datasource, null, null);
    }

    /**
     * {@code hosts} with the credentials provider's current user and password (copies), delivered on {@code context};
     * {@code hosts} themselves when the datasource has no provider. The provider is asked once for them all. A provider
     * that has not answered within {@code bound} fails the session's attempt, which is retried.
     */
    public Future<List<PgConnectOptions>> withCredentials(Context context, List<PgConnectOptions> hosts,
            Duration bound) {
        if (provider == null) {
            return Future.succeededFuture(hosts);
        }
        String source = "the credentials provider of " + DatasourceConnectOptions.prefix(datasource)
                + "credentials-provider=" + providerName;
        Promise<List<PgConnectOptions>> promise = Promise.promise();
        Uni.createFrom().deferred(() -> provider.getCredentialsAsync(providerName))
                // a provider may block while it builds its Uni: never on the election's event loop
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .ifNoItem().after(bound)
                .failWith(() -> new CredentialsUnavailable(source + " gave no credentials within " + bound, null))
                .onItem().ifNull().failWith(() -> new CredentialsUnavailable(source + " gave no credentials (null)", null))
                // applied before the hop to the context, so that whatever fails here fails the attempt
                .map(credentials -> hosts.stream().map(host -> apply(host, credentials)).toList())
                .onFailure(failure -> !(failure instanceof CredentialsUnavailable))
                .transform(failure -> new CredentialsUnavailable(source + " failed: " + SessionSetup.describe(failure),
                        failure))
                .subscribe().with(
                        withCredentials -> context.runOnContext(v -> promise.complete(withCredentials)),
                        failure -> context.runOnContext(v -> promise.fail(failure)));
        return promise.future();
    }

    /** As the pool's own connections take them: a user or a password the provider leaves out stays as configured. */
    private static PgConnectOptions apply(PgConnectOptions options, Map<String, String> credentials) {
        PgConnectOptions copy = new PgConnectOptions(options);
        if (credentials.get(USER_PROPERTY_NAME) != null) {
            copy.setUser(credentials.get(USER_PROPERTY_NAME));
        }
        if (credentials.get(PASSWORD_PROPERTY_NAME) != null) {
            copy.setPassword(credentials.get(PASSWORD_PROPERTY_NAME));
        }
        return copy;
    }

    /**
     * Whether TLS failed on the way: a certificate was not accepted, or the server does not take TLS. The PostgreSQL
     * client of Vert.x 4.5 reports a failed handshake as a bare "SSL handshake failed", without its cause.
     */
    static boolean tlsFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException || t instanceof VertxException && t.getMessage() != null
                    && (t.getMessage().startsWith(HANDSHAKE_FAILED) || t.getMessage().startsWith(NO_TLS))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The settings most likely behind {@code failure} of a session to {@code options}, as a clause for a log line;
     * empty when there is nothing to say.
     */
    String advice(Throwable failure, PgConnectOptions options) {
        String prefix = DatasourceConnectOptions.prefix(datasource);
        if (tlsFailure(failure)) {
            String server = options.getHost() + ":" + options.getPort();
            String cause = String.valueOf(failure.getMessage()).startsWith(NO_TLS)
                    ? "the server at " + server + " does not take TLS connections"
                    : "the TLS handshake with " + server + " failed (ssl-mode " + options.getSslMode().value
                            + "): the server's certificate is not signed by a trusted CA"
                            + (options.getSslMode() == SslMode.VERIFY_FULL ? " or not issued for " + options.getHost()
                                    : "")
                            + ", or the server did not accept the client's";
            return cause + "; check " + prefix + "reactive.postgresql.ssl-mode, the trusted certificates (" + prefix
                    + "reactive.trust-certificate-pem, -jks or -pfx, or trust-all), " + prefix
                    + "reactive.hostname-verification-algorithm and the client certificate (" + prefix
                    + "reactive.key-certificate-*)";
        }
        if (failure instanceof PgException e && INVALID_PASSWORD.equals(e.getSqlState())) {
            return provider != null
                    ? "check the password that the credentials provider of " + prefix + "credentials-provider="
                            + providerName + " gives"
                    : "check " + prefix + "username and " + prefix + "password";
        }
        if (failure instanceof PgException e && INVALID_AUTHORIZATION.equals(e.getSqlState())
                && String.valueOf(e.getErrorMessage()).contains("no encryption")) {
            return "the server takes only TLS connections here: set " + prefix + "reactive.postgresql.ssl-mode"
                    + " (verify-full, verify-ca or require) and the trusted certificates";
        }
        return "";
    }

    /** The provider gave no credentials for a session, or none in time. */
    static final class CredentialsUnavailable extends IllegalStateException {
        CredentialsUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
