package io.quarkiverse.leader.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The PostgreSQL the tests run against: an embedded server started once per JVM, or the server named by the
 * {@value #URL_VARIABLE} environment variable (e.g. {@code postgresql://postgres@127.0.0.1:5432/test}).
 */
public final class TestPostgres {

    public static final String URL_VARIABLE = "LEADER_TEST_DATABASE_URL";

    private static final String URL_PROPERTY = "leader.test.database.url";

    private static EmbeddedPostgres embedded;
    private static Vertx vertx;

    private TestPostgres() {
    }

    /** The reactive URL, with user, of the test database; starts the embedded server on first use. */
    public static synchronized String url() {
        // a system property, not a field: Quarkus tests load this class in more than one class loader
        String url = System.getProperty(URL_PROPERTY);
        if (url == null) {
            String configured = System.getenv(URL_VARIABLE);
            url = configured != null && !configured.isBlank() ? configured : startEmbedded();
            System.setProperty(URL_PROPERTY, url);
        }
        return url;
    }

    /** An advisory lock key no other test run on the same server uses. */
    public static long uniqueLock() {
        return ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    }

    /** Runs one statement on a fresh connection of its own and returns its rows. */
    public static List<Row> sql(String sql, Object... params) {
        return sqlIn(url(), sql, params);
    }

    /** Runs one statement on a fresh connection to {@code databaseUrl} and returns its rows. */
    public static List<Row> sqlIn(String databaseUrl, String sql, Object... params) {
        return await(PgConnection.connect(vertx(), PgConnectOptions.fromUri(databaseUrl))
                .compose(conn -> conn.preparedQuery(sql).execute(Tuple.from(List.of(params)))
                        .eventually(() -> conn.close())))
                .stream().collect(ArrayList::new, List::add, List::addAll);
    }

    /** The URL of another database of the test server, as another user. */
    public static String url(String database, String user) {
        URI base = URI.create(url());
        return "postgresql://" + user + "@" + base.getHost() + (base.getPort() < 0 ? "" : ":" + base.getPort()) + "/"
                + database + (base.getRawQuery() == null ? "" : "?" + base.getRawQuery());
    }

    /** The user the tests connect as. */
    public static String user() {
        return PgConnectOptions.fromUri(url()).getUser();
    }

    /**
     * A database of the test server for {@code purpose} alone, owned by {@code owner} (the test user when null), created
     * on first use; its name. Drop it with {@link #dropDatabase(String)}.
     */
    public static String database(String purpose, String owner) {
        return once("database", purpose, "CREATE DATABASE %s" + (owner == null ? "" : " OWNER " + owner));
    }

    /** A login role for {@code purpose} alone, with no privileges, created on first use; its name. */
    public static String role(String purpose) {
        return once("role", purpose, "CREATE ROLE %s LOGIN");
    }

    /**
     * {@code table} and its send {@code function} as a test run finds them on a server that outlives it: gone, so that a
     * test starts without an earlier run's messages. Once per JVM, whichever class loader asks, before the application
     * of the test creates them again.
     */
    public static synchronized String freshDurableStorage(String table, String function) {
        String done = "leader.test.fresh-durable." + table;
        if (System.getProperty(done) == null) {
            sql("DROP FUNCTION IF EXISTS " + function + "(text, text)");
            sql("DROP TABLE IF EXISTS " + table);
            System.setProperty(done, "dropped");
        }
        return table;
    }

    /** Drops a database of {@link #database}, ending its sessions. */
    public static void dropDatabase(String name) {
        sql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    public static void dropRole(String name) {
        sql("DROP ROLE IF EXISTS " + name);
    }

    /** Creates an object once per JVM: a test class is loaded by more than one class loader, each running its statics. */
    private static synchronized String once(String kind, String purpose, String ddl) {
        String property = "leader.test." + kind + "." + purpose;
        String name = System.getProperty(property);
        if (name == null) {
            name = "leader_" + purpose + "_" + Long.toHexString(uniqueLock());
            sql(ddl.formatted(name));
            System.setProperty(property, name);
        }
        return name;
    }

    /**
     * {@code pg_terminate_backend} of every session of the test database whose application_name is
     * {@code leader:<instanceId>}.
     */
    public static int terminateElectionSessions(String instanceId) {
        return sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1"
                + " AND datname = current_database()", "leader:" + instanceId).size();
    }

    /** How many sessions hold the advisory lock {@code key} in the test database (counted once per session). */
    public static long lockHolders(long key) {
        return lockHolders(url(), key);
    }

    /**
     * How many sessions hold the advisory lock {@code key} in the database of {@code databaseUrl}: advisory locks are per
     * database, while pg_locks lists those of every database of the server.
     */
    public static long lockHolders(String databaseUrl, long key) {
        return sqlIn(databaseUrl, "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                + " AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " AND ((classid::bigint << 32) | objid::bigint) = $1", key).get(0).getLong(0);
    }

    /** A connection of the test's own, outside any application. */
    public static PgConnection connect() {
        return await(PgConnection.connect(vertx(), PgConnectOptions.fromUri(url())));
    }

    /** A connection of the test's own to {@code databaseUrl}, shown in pg_stat_activity as {@code applicationName}. */
    public static PgConnection connect(String databaseUrl, String applicationName) {
        return await(PgConnection.connect(vertx(), PgConnectOptions.fromUri(databaseUrl)
                .addProperty("application_name", applicationName)));
    }

    /** Takes the advisory lock {@code key} on {@code conn} and returns the backend pid of that session. */
    public static int holdLock(PgConnection conn, long key) {
        return await(conn.preparedQuery("SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock($1)) l")
                .execute(Tuple.of(key))).iterator().next().getInteger(0);
    }

    /** Whether the server still has a session with that backend pid (pids are unique across the server). */
    public static boolean alive(int pid) {
        return sql("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).get(0).getLong(0) == 1;
    }

    public static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static synchronized Vertx vertx() {
        if (vertx == null) {
            vertx = Vertx.vertx();
        }
        return vertx;
    }

    /** Whether {@link #restartServer()} can restart the server: only the embedded one is ours to restart. */
    public static synchronized boolean canRestart() {
        url();
        return embedded != null;
    }

    /** Stops the embedded server and starts it again on the same port and data; returns once it accepts connections. */
    public static synchronized void restartServer() {
        if (!canRestart()) {
            throw new IllegalStateException("Only the embedded PostgreSQL can be restarted by the tests");
        }
        try {
            int port = embedded.getPort();
            embedded.close();
            embedded = builder().setPort(port).start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot restart the embedded PostgreSQL", e);
        }
    }

    private static EmbeddedPostgres.Builder builder() {
        return EmbeddedPostgres.builder()
                // the scale harness runs 10 instances of 10 elections each: 101 sessions and their pools
                .setServerConfig("max_connections", "300")
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false); // kept across restarts; removed when the JVM exits
    }

    private static Path dataDirectory;

    private static String startEmbedded() {
        try {
            dataDirectory = Files.createTempDirectory("leader-test-pg");
            embedded = builder().start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start the embedded PostgreSQL; set " + URL_VARIABLE
                    + " to use an existing server instead", e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                embedded.close();
                try (Stream<Path> files = Files.walk(dataDirectory)) {
                    files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
                }
            } catch (IOException ignored) {
                // the JVM is going away
            }
        }));
        return URI.create("postgresql://postgres@127.0.0.1:" + embedded.getPort() + "/postgres").toString();
    }
}
