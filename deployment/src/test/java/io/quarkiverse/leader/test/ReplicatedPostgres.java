package io.quarkiverse.leader.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * Two PostgreSQL clusters of a test's own on loopback, a primary and a streaming standby made from it with
 * {@code pg_basebackup -R} (asynchronous replication), trust authentication for {@code postgres}, data under
 * {@code target/}. The nodes keep their ports whatever their role: after {@link #promoteStandby()} the old primary can
 * be made the new standby with {@link #rebuildStandby()}. Register it as a JUnit extension, or {@link #stop()} it,
 * so that both clusters stop even when a test fails; the JVM stops them at the latest. Quarkus loads a test class in
 * more than one class loader: the clusters are started once per JVM and name, their state kept in system properties.
 */
public final class ReplicatedPostgres implements AfterAllCallback {

    private static final String PROPERTY = "leader.test.replicated.";
    private static final String USER = "postgres";
    private static final Duration READY = Duration.ofSeconds(60);

    private final String name;
    private final Path dir;
    private final Path bin;
    private final int[] ports;
    private final List<String> runAs;
    private Vertx vertx;

    private ReplicatedPostgres(String name, String state) {
        String[] parts = state.split("\\|", -1);
        this.name = name;
        this.dir = Path.of(parts[0]);
        this.bin = Path.of(parts[1]);
        this.ports = new int[] { Integer.parseInt(parts[2]), Integer.parseInt(parts[3]) };
        this.runAs = parts[4].isEmpty() ? List.of() : List.of(parts[4].split(" "));
    }

    /** Whether the Debian (or embedded) PostgreSQL binaries with initdb, pg_ctl and pg_basebackup are here. */
    public static boolean installed() {
        return TlsPostgres.binaries().filter(b -> Files.isExecutable(b.resolve("pg_basebackup"))).isPresent();
    }

    /** The pair {@code name}, started on first use; skips the test when no PostgreSQL binaries can be found. */
    public static synchronized ReplicatedPostgres start(String name) {
        String state = System.getProperty(PROPERTY + name);
        if (state == null) {
            state = launch(name);
            System.setProperty(PROPERTY + name, state);
            System.setProperty(PROPERTY + name + ".primary", "0");
            String started = state;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> new ReplicatedPostgres(name, started).stop()));
        }
        return new ReplicatedPostgres(name, state);
    }

    /** The index (0 or 1) of the node that is the primary now. */
    public int primary() {
        return Integer.parseInt(System.getProperty(PROPERTY + name + ".primary", "0"));
    }

    public int standby() {
        return 1 - primary();
    }

    public int port(int node) {
        return ports[node];
    }

    /** The URL of one node, as user {@code postgres}, database {@code postgres}. */
    public String url(int node) {
        return urlOfPort(ports[node]);
    }

    /** The URL of a server (or proxy) on loopback at {@code port}, as {@link #url(int)} has it. */
    public static String urlOfPort(int port) {
        return "postgresql://" + USER + "@127.0.0.1:" + port + "/" + USER;
    }

    public String primaryUrl() {
        return url(primary());
    }

    public String standbyUrl() {
        return url(standby());
    }

    /** What a node's server has logged so far. */
    public String log(int node) {
        try {
            return Files.readString(dir.resolve("node" + node + ".log"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How many connections a node's server has ended on request (pg_terminate_backend), as its log says. */
    public long endedConnections(int node) {
        return log(node).lines().filter(line -> line.contains("terminating connection due to administrator command"))
                .count();
    }

    /** How many sessions named {@code applicationName} a node's server has let in, as its log says. */
    public long sessions(int node, String applicationName) {
        String authorized = "application_name=" + applicationName;
        return log(node).lines().filter(line -> line.contains("connection authorized")
                && (line.endsWith(authorized) || line.contains(authorized + " "))).count();
    }

    /** How many statements a node's server refused with an error and logged, of those whose text holds {@code text}. */
    public long refusedStatements(int node, String text) {
        return log(node).lines().filter(line -> line.contains("STATEMENT:") && line.contains(text)).count();
    }

    /**
     * Ends the client connections on a node that are no election's session (those are named {@code leader…}) and
     * waits for them to exit (up to 5 s): an application's pool opens its next connection to its next URL.
     */
    public void endPoolConnections(int node) {
        sql(node, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                + " AND backend_type = 'client backend' AND datname = current_database()"
                + " AND application_name NOT LIKE 'leader%'");
    }

    /** Runs one statement on a node and returns its rows. */
    public synchronized List<Row> sql(int node, String sql, Object... params) {
        return TestPostgres.await(PgConnection.connect(vertx(), PgConnectOptions.fromUri(url(node)))
                .compose(conn -> conn.preparedQuery(sql).execute(Tuple.from(List.of(params)))
                        .eventually(() -> conn.close())))
                .stream().collect(ArrayList::new, List::add, List::addAll);
    }

    /** Runs a script of several statements on a node, as one simple query. */
    public synchronized void script(int node, String sql) {
        TestPostgres.await(PgConnection.connect(vertx(), PgConnectOptions.fromUri(url(node)))
                .compose(conn -> conn.query(sql).execute().eventually(() -> conn.close())));
    }

    /** Whether a node is in recovery (a standby); false when it cannot be asked. */
    public boolean inRecovery(int node) {
        try {
            return sql(node, "SELECT pg_is_in_recovery()").get(0).getBoolean(0);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The WAL timeline the primary writes on now. */
    public long timeline() {
        return sql(primary(), "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint")
                .get(0).getLong(0);
    }

    /** Waits until the standby has replayed everything the primary has written so far. */
    public void awaitReplayed() {
        String lsn = sql(primary(), "SELECT pg_current_wal_lsn()::text").get(0).getString(0);
        Awaitility.await().atMost(READY).pollInterval(Duration.ofMillis(20)).until(() -> sql(standby(),
                "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", lsn).get(0).getBoolean(0));
    }

    /** Stops streaming: the standby's WAL receiver is switched off, so what the primary commits now is not shipped. */
    public void cutReplication() {
        sql(standby(), "ALTER SYSTEM SET primary_conninfo = ''");
        sql(standby(), "SELECT pg_reload_conf()");
        Awaitility.await().atMost(READY).pollInterval(Duration.ofMillis(20))
                .until(() -> sql(standby(), "SELECT count(*) FROM pg_stat_wal_receiver").get(0).getLong(0) == 0
                        && sql(primary(), "SELECT count(*) FROM pg_stat_replication").get(0).getLong(0) == 0);
    }

    /** {@code pg_ctl stop -m fast}: sessions are ended with an error, then the server shuts down. */
    public void stopPrimary() {
        pgCtl("-D", data(primary()).toString(), "-m", "fast", "-w", "-t", "60", "stop");
    }

    /** SIGKILL of the primary's postmaster: its backends notice and exit. */
    public void killPrimary() {
        try {
            String pid = Files.readAllLines(data(primary()).resolve("postmaster.pid")).get(0).trim();
            TlsPostgres.run(dir, List.of(), "kill", "-KILL", pid);
            Awaitility.await().atMost(READY).pollInterval(Duration.ofMillis(20))
                    .until(() -> ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code pg_ctl promote -w}: returns once the standby is a primary. The old primary, if it still runs, keeps
     * running as a primary of its own (split brain, as when the network cut it off); it is no longer
     * {@link #primary()}.
     */
    public void promoteStandby() {
        int promoted = standby();
        pgCtl("-D", data(promoted).toString(), "-w", "-t", "60", "promote");
        System.setProperty(PROPERTY + name + ".primary", Integer.toString(promoted));
    }

    /** The old primary, stopped or still running, is replaced by a fresh standby of the new primary, on its port. */
    public void rebuildStandby() {
        int node = standby();
        stopNode(node);
        TlsPostgres.delete(data(node));
        makeStandby(node);
    }

    private void makeStandby(int node) {
        Path data = data(node);
        TlsPostgres.run(dir, runAs, bin.resolve("pg_basebackup").toString(), "-h", "127.0.0.1", "-p",
                Integer.toString(ports[primary()]), "-U", USER, "-D", data.toString(), "-R", "-X", "stream",
                "-c", "fast");
        try {
            // the copied configuration has the primary's port: a later line wins
            Files.writeString(data.resolve("postgresql.conf"), "port = " + ports[node] + "\n",
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        startNode(node);
        Awaitility.await().atMost(READY).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                .until(() -> sql(primary(), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
                        .get(0).getLong(0) == 1);
    }

    private void startNode(int node) {
        pgCtl("-D", data(node).toString(), "-l", dir.resolve("node" + node + ".log").toString(), "-w", "-t", "60",
                "start");
    }

    private void stopNode(int node) {
        if (Files.exists(data(node).resolve("postmaster.pid"))) {
            try {
                pgCtl("-D", data(node).toString(), "-m", "immediate", "-w", "-t", "30", "stop");
            } catch (IllegalStateException e) {
                // killed: no postmaster to stop
            }
        }
    }

    private Path data(int node) {
        return dir.resolve("node" + node);
    }

    private void pgCtl(String... args) {
        List<String> command = new ArrayList<>(List.of(bin.resolve("pg_ctl").toString()));
        command.addAll(List.of(args));
        TlsPostgres.run(dir, runAs, command.toArray(String[]::new));
    }

    private synchronized Vertx vertx() {
        if (vertx == null) {
            vertx = Vertx.vertx();
        }
        return vertx;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    /** Stops both clusters and removes their files; once, whichever class loader asks. */
    public void stop() {
        synchronized (ReplicatedPostgres.class) {
            if (System.getProperty(PROPERTY + name) == null || !Files.exists(dir)) {
                return;
            }
            System.clearProperty(PROPERTY + name);
        }
        if (vertx != null) {
            TestPostgres.await(vertx.close());
        }
        try {
            stopNode(0);
            stopNode(1);
        } finally {
            TlsPostgres.delete(dir);
        }
    }

    private static String launch(String name) {
        Path bin = TlsPostgres.binaries().orElse(null);
        Assumptions.assumeTrue(bin != null && Files.isExecutable(bin.resolve("pg_basebackup")), "No PostgreSQL"
                + " binaries (initdb, pg_ctl, pg_basebackup) found in /usr/lib/postgresql/*/bin: the replication tests"
                + " need clusters of their own");
        Path dir;
        try {
            Path target = Files.createDirectories(Path.of("target", "replicated-pg").toAbsolutePath());
            dir = Files.createTempDirectory(target, name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ReplicatedPostgres pair = null;
        try {
            List<String> runAs = TlsPostgres.serverAccount(dir, bin);
            TlsPostgres.chown(dir, runAs);
            Path data = dir.resolve("node0");
            TlsPostgres.run(dir, runAs, bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "-E",
                    "UTF8", "--auth=trust");
            int[] ports = { TlsPostgres.freePort(), TlsPostgres.freePort() };
            while (ports[1] == ports[0]) {
                ports[1] = TlsPostgres.freePort();
            }
            Files.writeString(data.resolve("postgresql.conf"), String.join("\n",
                    "port = " + ports[0],
                    "listen_addresses = '127.0.0.1'",
                    "unix_socket_directories = '" + dir + "'",
                    "max_connections = 100",
                    "fsync = off",
                    "wal_level = replica",
                    "max_wal_senders = 5",
                    "hot_standby = on",
                    "wal_keep_size = '64MB'",
                    // a standby's own timeouts never end the sessions the tests keep open on it
                    "max_standby_streaming_delay = -1",
                    // the tests count the sessions a node let in
                    "log_connections = on",
                    ""), StandardOpenOption.APPEND);
            Files.writeString(data.resolve("pg_hba.conf"), "host all all 127.0.0.1/32 trust\n"
                    + "host replication all 127.0.0.1/32 trust\n");
            String state = dir + "|" + bin + "|" + ports[0] + "|" + ports[1] + "|" + String.join(" ", runAs);
            pair = new ReplicatedPostgres(name, state);
            System.setProperty(PROPERTY + name + ".primary", "0");
            pair.startNode(0);
            pair.makeStandby(1);
            TestPostgres.await(pair.vertx().close());
            return state;
        } catch (IOException | RuntimeException e) {
            if (pair != null) {
                pair.stopNode(0);
                pair.stopNode(1);
            }
            TlsPostgres.delete(dir);
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }
}
