package io.quarkiverse.leader.runtime;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.eclipse.microprofile.config.Config;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.vertx.pgclient.PgConnectOptions;

/**
 * An election's settings: their full names, their validation, and the values derived from them (the lock key, the
 * instance id, the session's connect options and {@code application_name}).
 */
final class ElectionSettings {

    /** PostgreSQL keeps at most this many bytes of an {@code application_name}. */
    private static final int APPLICATION_NAME_BYTES = 63;

    private ElectionSettings() {
    }

    /** The full name of an election's property: {@code quarkus.leader.poll}, {@code quarkus.leader."jobs".poll}. */
    static String property(String election, String property) {
        return LeaderElection.DEFAULT_NAME.equals(election) ? "quarkus.leader." + property
                : "quarkus.leader.\"" + election + "\"." + property;
    }

    /** "the leader election", or "the leader election 'jobs'", for messages. */
    static String describe(String election) {
        return LeaderElection.DEFAULT_NAME.equals(election) ? "the leader election"
                : "the leader election '" + election + "'";
    }

    /** Fails start-up on values the election cannot run with, naming the property. */
    static void validate(String name, ElectionConfig config) {
        requirePositive(property(name, "poll"), config.poll());
        requirePositive(property(name, "heartbeat"), config.heartbeat());
        requirePositive(property(name, "lease"), config.lease());
        requirePositive(property(name, "reconnect-initial-delay"), config.reconnectInitialDelay());
        requirePositive(property(name, "reconnect-max-delay"), config.reconnectMaxDelay());
        requirePositive(property(name, "send-timeout"), config.sendTimeout());
        if (config.heartbeat().compareTo(config.lease()) >= 0) {
            throw new ConfigurationException(property(name, "heartbeat") + " (" + config.heartbeat()
                    + ") must be shorter than " + property(name, "lease") + " (" + config.lease()
                    + "), or every lease would run out before it is confirmed; a third of the lease or less is usual");
        }
        if (config.reconnectMaxDelay().compareTo(config.reconnectInitialDelay()) < 0) {
            throw new ConfigurationException(property(name, "reconnect-max-delay") + " (" + config.reconnectMaxDelay()
                    + ") must not be shorter than " + property(name, "reconnect-initial-delay") + " ("
                    + config.reconnectInitialDelay() + ")");
        }
        if (config.reconnectRejectedMaxDelay().compareTo(config.reconnectMaxDelay()) < 0) {
            throw new ConfigurationException(property(name, "reconnect-rejected-max-delay") + " ("
                    + config.reconnectRejectedMaxDelay() + ") must not be shorter than "
                    + property(name, "reconnect-max-delay") + " (" + config.reconnectMaxDelay()
                    + "): attempts the server rejects back off at least as far as those that fail to connect");
        }
        requireNotNegative(property(name, "shutdown-timeout"), config.shutdownTimeout());
        requireNotNegative(property(name, "observer-timeout"), config.observerTimeout());
        requirePositive(property(name, "fencing.idle-timeout"), config.fencing().idleTimeout());
        if (config.fencing().table().isBlank()) {
            throw new ConfigurationException(property(name, "fencing.table") + " must not be blank; the default is "
                    + TermTable.DEFAULT_TABLE);
        }
        config.fencing().schema().filter(String::isBlank).ifPresent(schema -> {
            throw new ConfigurationException(property(name, "fencing.schema") + " must not be blank; leave it unset"
                    + " for the first schema of the search_path");
        });
        validateDurable(name, config.durable());
        config.instanceId().filter(String::isBlank).ifPresent(id -> {
            throw new ConfigurationException(property(name, "instance-id") + " must not be blank");
        });
    }

    private static void requireName(String property, String value, int maxBytes) {
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxBytes) {
            throw new ConfigurationException(property + " '" + value + "' has " + bytes + " bytes of UTF-8; at most "
                    + maxBytes + " are allowed");
        }
        if (value.contains("$")) { // the send function's body is dollar-quoted
            throw new ConfigurationException(property + " '" + value + "' must not contain '$'");
        }
    }

    /**
     * The largest max-payload-size: a leader reads a payload in one fetch, bounded by send-timeout, and holds it in
     * memory; PostgreSQL's own limit (1 GB) is far beyond what either allows.
     */
    static final long MAX_PAYLOAD_BYTES = 64L << 20;

    private static void validateDurable(String name, ElectionConfig.Durable durable) {
        if (durable.table().isBlank()) {
            throw new ConfigurationException(property(name, "durable.table") + " must not be blank; the default is "
                    + MessageTable.DEFAULT_TABLE);
        }
        if (durable.function().isBlank()) {
            throw new ConfigurationException(property(name, "durable.function") + " must not be blank; the default is "
                    + MessageTable.DEFAULT_FUNCTION);
        }
        // PostgreSQL cuts names at 63 bytes: the table's index names (table + "_pending") must stay apart
        requireName(property(name, "durable.table"), durable.table(), 63 - "_pending".length());
        requireName(property(name, "durable.function"), durable.function(), 63);
        durable.schema().ifPresent(schema -> requireName(property(name, "durable.schema"), schema, 63));
        durable.schema().filter(String::isBlank).ifPresent(schema -> {
            throw new ConfigurationException(property(name, "durable.schema") + " must not be blank; leave it unset"
                    + " for the first schema of the search_path");
        });
        String channelProblem = Channels.problem(durable.wakeupChannel());
        if (channelProblem != null) {
            throw new ConfigurationException(property(name, "durable.wakeup-channel") + " '" + durable.wakeupChannel()
                    + "' is not a valid channel name: " + channelProblem);
        }
        requirePositive(property(name, "durable.poll-interval"), durable.pollInterval());
        if (durable.batchSize() < 1 || durable.batchSize() > 10_000) {
            throw new ConfigurationException(property(name, "durable.batch-size") + " must be between 1 and 10000, got "
                    + durable.batchSize());
        }
        requirePositive(property(name, "durable.retry-initial-delay"), durable.retryInitialDelay());
        if (durable.retryMaxDelay().compareTo(durable.retryInitialDelay()) < 0) {
            throw new ConfigurationException(property(name, "durable.retry-max-delay") + " (" + durable.retryMaxDelay()
                    + ") must not be shorter than " + property(name, "durable.retry-initial-delay") + " ("
                    + durable.retryInitialDelay() + ")");
        }
        requirePositive(property(name, "durable.call-timeout"), durable.callTimeout());
        if (durable.maxAttempts() < 1) {
            throw new ConfigurationException(property(name, "durable.max-attempts") + " must be at least 1, got "
                    + durable.maxAttempts());
        }
        long maxPayload = durable.maxPayloadSize().asLongValue();
        if (maxPayload < 1 || maxPayload > MAX_PAYLOAD_BYTES) {
            throw new ConfigurationException(property(name, "durable.max-payload-size") + " must be between 1 byte and"
                    + " 64M, got " + durable.maxPayloadSize().asLongValue() + "; keep larger data in a table of its own"
                    + " and send its key");
        }
    }

    private static void requirePositive(String property, Duration value) {
        if (value.toMillis() < 1) {
            throw new ConfigurationException(property + " must be at least 1ms, got " + value);
        }
    }

    private static void requireNotNegative(String property, Duration value) {
        if (value.isNegative()) {
            throw new ConfigurationException(property + " must not be negative, got " + value);
        }
    }

    /**
     * The options of the election's own session, one per URL of its datasource, in their order, never a pooled
     * connection: the datasource's own (TLS, credentials, additional properties), with the election's
     * {@code application_name}, a connect timeout of a lease, and no reconnection of the client's: the election opens
     * every session itself, with its backoff.
     */
    static List<PgConnectOptions> connectOptions(String election, ElectionConfig config, String instanceId,
            DatasourceConnectOptions datasource) {
        String prefix = DatasourceConnectOptions.prefix(datasourceName(config));
        List<PgConnectOptions> hosts = datasource.all();
        if (hosts.isEmpty()) {
            throw new ConfigurationException("Instance " + instanceId + " cannot join " + describe(election)
                    + ": it needs the URL of the reactive datasource" + config.datasource().map(n -> " '" + n + "'")
                            .orElse("")
                    + ": set " + prefix + "reactive.url (or " + property(election, "enabled")
                    + "=false to run without the election)");
        }
        for (PgConnectOptions options : hosts) {
            options.addProperty("application_name", applicationName(election, instanceId));
            options.setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.lease().toMillis()));
            options.setReconnectAttempts(0);
        }
        return hosts;
    }

    /** The name Quarkus gives the election's datasource in its configuration maps. */
    static String datasourceName(ElectionConfig config) {
        return config.datasource().orElse(DataSourceUtil.DEFAULT_DATASOURCE_NAME);
    }

    /**
     * {@code leader:<instance-id>} for the default election, {@code leader/<election>:<instance-id>} for a named one.
     * PostgreSQL keeps only printable ASCII of an application name (it replaces or escapes the rest, depending on its
     * version) and at most 63 bytes, so every other character is percent-encoded here, and the name cut before an
     * escape that would not fit: the same instance id always gives the same name, on any server.
     */
    static String applicationName(String election, String instanceId) {
        String raw = (LeaderElection.DEFAULT_NAME.equals(election) ? "leader:" : "leader/" + election + ":") + instanceId;
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < raw.length(); i = raw.offsetByCodePoints(i, 1)) {
            int c = raw.codePointAt(i);
            String token = c >= 0x20 && c < 0x7f && c != '%' ? Character.toString(c) : percentEncoded(c);
            if (name.length() + token.length() > APPLICATION_NAME_BYTES) {
                break;
            }
            name.append(token);
        }
        return name.toString();
    }

    private static String percentEncoded(int codePoint) {
        StringBuilder encoded = new StringBuilder();
        for (byte b : Character.toString(codePoint).getBytes(StandardCharsets.UTF_8)) {
            encoded.append('%').append(String.format("%02X", b & 0xff));
        }
        return encoded.toString();
    }

    static String defaultInstanceId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 4);
    }

    /** A key derived from the application name, and the election's name for a named election. */
    static long defaultLock(Config mpConfig, String election) {
        String name = mpConfig.getOptionalValue("quarkus.application.name", String.class)
                .orElseThrow(() -> new ConfigurationException("Leader election needs a lock key: set "
                        + property(election, "lock") + " (a bigint) or quarkus.application.name"));
        String seed = "quarkus-leader:" + name + (LeaderElection.DEFAULT_NAME.equals(election) ? "" : ":" + election);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
            long key = 0;
            for (int i = 0; i < 8; i++) {
                key = (key << 8) | (digest[i] & 0xff);
            }
            return key;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
