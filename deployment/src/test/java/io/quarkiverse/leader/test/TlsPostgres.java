package io.quarkiverse.leader.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Vertx;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * A PostgreSQL cluster of a test class's own that takes TLS connections only: {@code ssl=on} with a server
 * certificate signed by a CA made for it, a {@code pg_hba.conf} with nothing but {@code hostssl ... scram-sha-256}
 * on 127.0.0.1, and a login role with a password that owns the database of {@link #url()}. Register it before the
 * {@code QuarkusUnitTest} (so that it stops after the application has):
 *
 * <pre>
 * &#64;RegisterExtension
 * static final TlsPostgres PG = TlsPostgres.start("verify", "DNS:localhost,IP:127.0.0.1");
 * </pre>
 *
 * Quarkus loads a test class in more than one class loader: the cluster is started once per JVM and name, its state
 * kept in system properties, and stopped by the extension registered with JUnit, or with the JVM at the latest.
 */
public final class TlsPostgres implements AfterAllCallback {

    /** The role the applications connect as. */
    public static final String USER = "leader_tls";
    private static final String SUPERUSER = "postgres";
    private static final String PROPERTY = "leader.test.tls.";
    private static final long COMMAND_SECONDS = 60;

    private final String name;
    private final Path dir;
    private final Path bin;
    private final int port;
    private final String password;
    private final List<String> runAs;
    private Vertx vertx;

    private TlsPostgres(String name, String state) {
        String[] parts = state.split("\\|", -1);
        this.name = name;
        this.dir = Path.of(parts[0]);
        this.bin = Path.of(parts[1]);
        this.port = Integer.parseInt(parts[2]);
        this.password = parts[3];
        this.runAs = parts[4].isEmpty() ? List.of() : List.of(parts[4].split(" "));
    }

    /**
     * The cluster {@code name}, started on first use with a server certificate for {@code subjectAltNames} (as openssl
     * writes them: {@code DNS:localhost,IP:127.0.0.1}). Skips the test when no PostgreSQL binaries can be found.
     */
    public static synchronized TlsPostgres start(String name, String subjectAltNames) {
        String state = System.getProperty(PROPERTY + name);
        if (state == null) {
            state = launch(subjectAltNames);
            System.setProperty(PROPERTY + name, state);
            String stopped = state;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> new TlsPostgres(name, stopped).stop()));
        }
        return new TlsPostgres(name, state);
    }

    public int port() {
        return port;
    }

    /** The URL the applications use; the host is an address, so that verify-full checks the certificate's IP names. */
    public String url() {
        return "postgresql://127.0.0.1:" + port + "/" + USER;
    }

    /**
     * {@code test}'s default datasource on this server, as production configures TLS: {@code verify-full} with HTTPS
     * hostname verification, trusting the test's CA.
     */
    public QuarkusUnitTest verifyFull(QuarkusUnitTest test) {
        return test.overrideConfigKey("quarkus.datasource.reactive.url", url())
                .overrideConfigKey("quarkus.datasource.reactive.postgresql.ssl-mode", "verify-full")
                .overrideConfigKey("quarkus.datasource.reactive.hostname-verification-algorithm", "HTTPS")
                .overrideConfigKey("quarkus.datasource.reactive.trust-certificate-pem", "true")
                .overrideConfigKey("quarkus.datasource.reactive.trust-certificate-pem.certs", caCertificate().toString());
    }

    /** The password of {@link #USER}. */
    public String password() {
        return password;
    }

    /** The CA that signed the server's certificate, in PEM. */
    public Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    /** A CA that signed nothing the server has, in PEM. */
    public Path otherCaCertificate() {
        return dir.resolve("other-ca.crt");
    }

    /** What the server has logged so far. */
    public String log() {
        try {
            return Files.readString(dir.resolve("server.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How often the server has logged {@code text} so far. */
    public int logged(String text) {
        String log = log();
        int count = 0;
        for (int at = log.indexOf(text); at >= 0; at = log.indexOf(text, at + text.length())) {
            count++;
        }
        return count;
    }

    /** Runs one statement as the superuser, over TLS (the only way in), and returns its rows. */
    public synchronized List<Row> sql(String sql, Object... params) {
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(port).setDatabase("postgres")
                .setUser(SUPERUSER).setPassword(password).setSslMode(SslMode.VERIFY_CA)
                .setTrustOptions(new PemTrustOptions().addCertPath(caCertificate().toString()));
        return TestPostgres.await(PgConnection.connect(vertx(), options)
                .compose(conn -> conn.preparedQuery(sql).execute(Tuple.from(List.of(params)))
                        .eventually(() -> conn.close())))
                .stream().collect(ArrayList::new, List::add, List::addAll);
    }

    /** Whether a connection without TLS is turned away, as pg_hba.conf says; the failure otherwise. */
    public synchronized Optional<Throwable> plainConnectionRefused() {
        PgConnectOptions plain = PgConnectOptions.fromUri(url()).setUser(USER).setPassword(password)
                .setSslMode(SslMode.DISABLE);
        try {
            TestPostgres.await(PgConnection.connect(vertx(), plain).compose(PgConnection::close));
            return Optional.empty();
        } catch (IllegalStateException e) {
            return Optional.of(e.getCause());
        }
    }

    /** One Vert.x for the class's own statements, closed with the server. */
    private Vertx vertx() {
        if (vertx == null) {
            vertx = Vertx.vertx();
        }
        return vertx;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    /** Stops the server and removes its files; once, whichever class loader asks. */
    public void stop() {
        synchronized (TlsPostgres.class) {
            if (System.getProperty(PROPERTY + name) == null || !Files.exists(dir)) {
                return;
            }
            System.clearProperty(PROPERTY + name);
        }
        if (vertx != null) {
            vertx.close();
        }
        try {
            if (Files.exists(dir.resolve("data/postmaster.pid"))) {
                run(dir, runAs, bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m",
                        "immediate", "-w", "-t", "30", "stop");
            }
        } finally {
            delete(dir);
        }
    }

    private static String launch(String subjectAltNames) {
        Path bin = binaries().orElse(null);
        Assumptions.assumeTrue(bin != null, "No PostgreSQL binaries (initdb, pg_ctl) found in /usr/lib/postgresql/*/bin"
                + " or in the embedded PostgreSQL's directory under java.io.tmpdir: the TLS tests need a cluster of"
                + " their own");
        Path dir;
        try {
            dir = Files.createTempDirectory("leader-tls-pg");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            String password = Long.toHexString(TestPostgres.uniqueLock());
            certificates(dir, subjectAltNames);
            Files.writeString(dir.resolve("pwfile"), password + "\n");
            List<String> runAs = serverAccount(dir, bin);
            chown(dir, runAs);
            Path data = dir.resolve("data");
            run(dir, runAs, bin.resolve("initdb").toString(), "-D", data.toString(), "-U", SUPERUSER, "-E", "UTF8",
                    "--auth=scram-sha-256", "--pwfile=" + dir.resolve("pwfile"));
            Files.writeString(data.resolve("postgresql.conf"), String.join("\n",
                    "listen_addresses = '127.0.0.1'",
                    "unix_socket_directories = '" + dir + "'",
                    "max_connections = 50",
                    "fsync = off",
                    "ssl = on",
                    "ssl_cert_file = '" + dir.resolve("server.crt") + "'",
                    "ssl_key_file = '" + dir.resolve("server.key") + "'",
                    "password_encryption = 'scram-sha-256'",
                    ""), java.nio.file.StandardOpenOption.APPEND);
            // TLS only: no plain host line, and nothing over the Unix socket either
            Files.writeString(data.resolve("pg_hba.conf"), "hostssl all all 127.0.0.1/32 scram-sha-256\n");
            chown(dir, runAs);
            int port = startOnFreePort(dir, data, bin, runAs);
            String state = dir + "|" + bin + "|" + port + "|" + password + "|" + String.join(" ", runAs);
            TlsPostgres cluster = new TlsPostgres("launching", state);
            cluster.sql("CREATE ROLE " + USER + " LOGIN PASSWORD '" + password + "'");
            // a database of its own: since PostgreSQL 15 only the owner may create tables in public
            cluster.sql("CREATE DATABASE " + USER + " OWNER " + USER);
            cluster.vertx.close();
            return state;
        } catch (IOException | RuntimeException e) {
            delete(dir);
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /** The newest Debian cluster binaries, or else those the embedded PostgreSQL unpacked. */
    static Optional<Path> binaries() {
        List<Path> candidates = new ArrayList<>();
        candidates.addAll(subdirectories(Path.of("/usr/lib/postgresql"), "bin"));
        candidates.addAll(subdirectories(Path.of(System.getProperty("java.io.tmpdir"), "embedded-pg"), "bin"));
        return candidates.stream()
                .filter(dir -> Files.isExecutable(dir.resolve("initdb")) && Files.isExecutable(dir.resolve("pg_ctl")))
                .findFirst();
    }

    private static List<Path> subdirectories(Path parent, String child) {
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(parent)) {
            return dirs.sorted(Comparator.comparing(TlsPostgres::version).reversed()).map(dir -> dir.resolve(child))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static int version(Path dir) {
        String name = dir.getFileName().toString();
        return name.matches("\\d+") ? Integer.parseInt(name) : 0;
    }

    /**
     * PostgreSQL refuses to run as root: then the server runs as the {@code postgres} account (or {@code nobody}),
     * through runuser, and owns the cluster's files.
     */
    static List<String> serverAccount(Path dir, Path bin) throws IOException {
        String probe = run(dir, List.of(), "id", "-u").trim();
        if (!"0".equals(probe)) {
            return List.of();
        }
        for (String account : List.of("postgres", "nobody")) {
            try {
                run(dir, List.of(), "id", account);
                return List.of("runuser", "-u", account, "--");
            } catch (IllegalStateException e) {
                // no such account
            }
        }
        throw new IllegalStateException("Running as root and neither a postgres nor a nobody account exists to run "
                + bin.resolve("postgres") + " as");
    }

    static void chown(Path dir, List<String> runAs) {
        if (!runAs.isEmpty()) {
            run(dir, List.of(), "chown", "-R", runAs.get(2), dir.toString());
        }
    }

    /** A CA, a server certificate it signed for {@code subjectAltNames}, and another CA that signed nothing. */
    private static void certificates(Path dir, String subjectAltNames) throws IOException {
        for (String ca : List.of("ca", "other-ca")) {
            run(dir, List.of(), "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=leader test " + ca, "-keyout", ca + ".key", "-out", ca + ".crt", "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        }
        run(dir, List.of(), "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=leader test server",
                "-keyout", "server.key", "-out", "server.csr");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=" + subjectAltNames + "\n"
                + "extendedKeyUsage=serverAuth\n");
        run(dir, List.of(), "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt");
        Files.setPosixFilePermissions(dir.resolve("server.key"), java.nio.file.attribute.PosixFilePermissions
                .fromString("rw-------"));
    }

    /**
     * Starts the cluster on a port that was free a moment ago; another process may take it meanwhile, so a start that
     * cannot bind tries another port (three times at most).
     */
    private static int startOnFreePort(Path dir, Path data, Path bin, List<String> runAs) throws IOException {
        for (int attempt = 1;; attempt++) {
            int port = freePort();
            // postgresql.auto.conf overrides postgresql.conf, and is rewritten for each attempt
            Files.writeString(data.resolve("postgresql.auto.conf"), "port = " + port + "\n");
            chown(dir, runAs);
            Files.deleteIfExists(dir.resolve("server.log")); // what this attempt logs, alone
            try {
                run(dir, runAs, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                        dir.resolve("server.log").toString(), "-w", "-t", "30", "start");
                return port;
            } catch (RuntimeException e) {
                String log = Files.exists(dir.resolve("server.log")) ? Files.readString(dir.resolve("server.log")) : "";
                if (attempt == 3 || !log.contains("could not bind")) {
                    throw e;
                }
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Runs a command in {@code dir}, bounded; its output, or a failure that includes it. */
    static String run(Path dir, List<String> runAs, String... command) {
        List<String> line = new ArrayList<>(runAs);
        line.addAll(List.of(command));
        try {
            Path output = Files.createTempFile(dir, "command", ".out");
            Process process = new ProcessBuilder(line).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                            "/dev/null")))
                    .start();
            boolean ended = process.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS);
            if (!ended) {
                process.destroyForcibly();
            }
            String text = Files.readString(output);
            Files.delete(output);
            if (!ended || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", line)
                        + (ended ? " failed (" + process.exitValue() + ")"
                                : " did not end within " + COMMAND_SECONDS
                                        + " s")
                        + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException ignored) {
            // gone already
        }
    }
}
