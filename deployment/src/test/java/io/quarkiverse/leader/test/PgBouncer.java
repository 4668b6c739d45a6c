package io.quarkiverse.leader.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.vertx.pgclient.PgConnectOptions;

/**
 * A PgBouncer on loopback in front of the test PostgreSQL, in one pool mode, as a child process of the test JVM.
 * Quarkus tests load this class in more than one class loader: the port and the process live in the system
 * properties, so every copy speaks of the same PgBouncer.
 */
public final class PgBouncer {

    /** Debian's package puts it here; the {@code PATH} is searched too. */
    private static final String DEBIAN_BINARY = "/usr/sbin/pgbouncer";
    private static final long START_TIMEOUT_MS = 10_000;
    private static final long STOP_TIMEOUT_MS = 10_000;

    private final String mode;
    private final int poolSize;
    private final String key;

    private PgBouncer(String mode, int poolSize) {
        this.mode = mode;
        this.poolSize = poolSize;
        this.key = "leader.test.pgbouncer." + mode + "." + poolSize;
    }

    /**
     * The PgBouncer of this JVM for {@code mode} ({@code session}, {@code transaction} or {@code statement}) with
     * {@code poolSize} server connections per database and user; its port is chosen now, its process started by
     * {@link #start()}.
     */
    public static synchronized PgBouncer of(String mode, int poolSize) {
        PgBouncer bouncer = new PgBouncer(mode, poolSize);
        System.getProperties().computeIfAbsent(bouncer.key + ".port", k -> freePort());
        return bouncer;
    }

    /** Where the binary is, or null when PgBouncer is not installed. */
    public static Path binary() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                candidates.add(Path.of(dir, "pgbouncer"));
            }
        }
        candidates.add(Path.of(DEBIAN_BINARY));
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** For {@code @EnabledIf}: whether PgBouncer is installed. */
    public static boolean installed() {
        return binary() != null;
    }

    public static final String MISSING = "PgBouncer is not installed (apt-get install pgbouncer): the tests behind a"
            + " pooler are skipped";

    /** The test database's URL, through this PgBouncer. */
    public String url() {
        URI uri = URI.create(TestPostgres.url());
        return uri.getScheme() + "://" + uri.getUserInfo() + "@127.0.0.1:" + port() + uri.getPath();
    }

    public int port() {
        return (Integer) System.getProperties().get(key + ".port");
    }

    /** Starts the process, once per JVM; returns once it accepts connections. */
    public synchronized void start() {
        if (System.getProperties().get(key + ".process") != null) {
            return;
        }
        Path binary = binary();
        if (binary == null) {
            throw new IllegalStateException(MISSING);
        }
        try {
            Path dir = Files.createTempDirectory("leader-test-pgbouncer");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            PgConnectOptions server = PgConnectOptions.fromUri(TestPostgres.url());
            Path users = write(dir.resolve("userlist.txt"), "\"" + server.getUser() + "\" \"\"\n");
            Path ini = write(dir.resolve("pgbouncer.ini"), String.join("\n",
                    "[databases]",
                    "* = host=" + server.getHost() + " port=" + server.getPort(),
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    "listen_port = " + port(),
                    "unix_socket_dir =",
                    "auth_type = trust",
                    "auth_file = " + users,
                    "pool_mode = " + mode,
                    "default_pool_size = " + poolSize,
                    "max_client_conn = 100",
                    // the Vert.x client sends extra_float_digits, which PgBouncer does not track
                    "ignore_startup_parameters = extra_float_digits,options",
                    ""));
            List<String> command = new ArrayList<>(List.of(binary.toString()));
            if ("root".equals(System.getProperty("user.name"))) {
                command.addAll(List.of("-u", "nobody")); // it refuses to run as root
            }
            command.add(ini.toString());
            Path log = dir.resolve("pgbouncer.log");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .start();
            System.getProperties().put(key + ".process", process);
            // a JVM that ends without the test's stop must not leave it running
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
            System.getProperties().put(key + ".dir", dir);
            awaitListening(process, log);
        } catch (IOException e) {
            stop();
            throw new UncheckedIOException("Cannot start PgBouncer", e);
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    /** Stops the process (bounded) and removes its files; nothing when it was never started. */
    public synchronized void stop() {
        Process process = (Process) System.getProperties().remove(key + ".process");
        Path dir = (Path) System.getProperties().remove(key + ".dir");
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temporary directory
            }
        }
    }

    private void awaitListening(Process process, Path log) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("PgBouncer exited with " + process.exitValue() + ": "
                        + Files.readString(log));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port()), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(50); // polling for the port, not an assertion
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
        throw new IllegalStateException("PgBouncer did not listen on port " + port() + " within " + START_TIMEOUT_MS
                + " ms: " + Files.readString(log));
    }

    private static Path write(Path file, String content) throws IOException {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        return file;
    }

    private static Integer freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
