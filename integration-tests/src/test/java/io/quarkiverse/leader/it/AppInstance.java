package io.quarkiverse.leader.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.restassured.config.HttpClientConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/**
 * One process of the packaged sample application ({@code target/quarkus-app/quarkus-run.jar}).
 */
public final class AppInstance implements AutoCloseable {

    /** A paused or dying instance must not hang the caller: every request gives up after a second. */
    private static final RestAssuredConfig HTTP = RestAssuredConfig.config().httpClient(HttpClientConfig.httpClientConfig()
            .setParam("http.connection.timeout", 1000)
            .setParam("http.socket.timeout", 1000));

    private static final HttpClient SENDER = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();

    private final String id;
    private final int port;
    private final Process process;
    private final Path log;
    private long startupMillis;

    private AppInstance(String id, int port, Process process, Path log) {
        this.id = id;
        this.port = port;
        this.process = process;
        this.log = log;
    }

    /** Starts an instance on the given database and lock, and waits until it answers HTTP. */
    public static AppInstance start(String id, String databaseUrl, long lock, Map<String, String> config) {
        return start(id, databaseUrl, lock, config, List.of("-Xmx128m"));
    }

    /** The same, with these JVM options instead of the default heap (many instances on one machine want less). */
    public static AppInstance start(String id, String databaseUrl, long lock, Map<String, String> config,
            List<String> jvmOptions) {
        Path jar = Path.of(System.getProperty("app.jar", "target/quarkus-app/quarkus-run.jar"));
        if (!Files.exists(jar)) {
            throw new IllegalStateException("No packaged application at " + jar + ": run ./mvnw package first");
        }
        int port = freePort();
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(jvmOptions);
        // GC pauses, for reading tail latencies and takeover times against
        command.add(
                "-Xlog:gc:file=" + jar.toAbsolutePath().getParent().getParent().resolve("instances").resolve(id + ".gc.log"));
        command.add("-Dquarkus.http.host=127.0.0.1");
        command.add("-Dquarkus.http.port=" + port);
        command.add("-Dquarkus.datasource.reactive.url=" + databaseUrl);
        command.add("-Dquarkus.leader.lock=" + lock);
        // the named election too: the integration tests' own instance of the sample may still hold its default key
        command.add("-Dquarkus.leader.reports.lock=" + (lock + 1));
        command.add("-Dquarkus.leader.instance-id=" + id);
        command.add("-Dsample.history-file=" + historyFile(jar, id));
        command.add("-Dsample.handled-file=" + handledFile(jar, id));
        config.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-jar");
        command.add(jar.toString());
        try {
            Path log = Files.createDirectories(jar.getParent().getParent().resolve("instances")).resolve(id + ".log");
            Files.deleteIfExists(historyFile(jar, id)); // left by an earlier run
            Files.deleteIfExists(handledFile(jar, id));
            long launched = System.nanoTime();
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            AppInstance instance = new AppInstance(id, port, process, log);
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                        .until(() -> {
                            if (!process.isAlive()) {
                                throw new IllegalStateException(id + " exited at start-up; see " + log);
                            }
                            return instance.leaderState() != null;
                        });
            } catch (RuntimeException e) {
                instance.close(); // the caller never gets it to stop: an instance too slow to start is not left running
                throw e;
            }
            instance.startupMillis = (System.nanoTime() - launched) / 1_000_000;
            return instance;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static RequestSpecification http() {
        return given().config(HTTP);
    }

    public String id() {
        return id;
    }

    /** From launching the process to its first HTTP answer. */
    public long startupMillis() {
        return startupMillis;
    }

    /**
     * Heap in use, in bytes, as the application's own metrics report it, just after a full collection: what is live,
     * not what happens not to have been collected yet.
     */
    public long heapUsedBytes() {
        Path jcmd = Path.of(ProcessHandle.current().info().command().orElse("java")).resolveSibling("jcmd");
        try {
            Process gc = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!gc.waitFor(30, TimeUnit.SECONDS) || gc.exitValue() != 0) {
                throw new IllegalStateException("jcmd " + process.pid() + " GC.run failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        String metrics = http().port(port).get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\""))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** @return whether the instance says it leads, or {@code null} when it does not answer */
    public Boolean leaderState() {
        try {
            return http().port(port).get("/leader").then().statusCode(200).extract().path("leader");
        } catch (RuntimeException e) {
            return null;
        }
    }

    public boolean isLeader() {
        return Boolean.TRUE.equals(leaderState());
    }

    /** Whether this instance leads the election of that name ({@code <default>} or a named one). */
    public boolean leads(String election) {
        try {
            List<Map<String, Object>> elections = http().port(port).get("/leader/elections").then().statusCode(200)
                    .extract().jsonPath().getList("");
            return elections.stream().anyMatch(e -> election.equals(e.get("name")) && Boolean.TRUE.equals(e.get("leader")));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The term this instance leads in, or 0 when it does not lead. */
    public long term() {
        return http().port(port).get("/leader").then().statusCode(200).extract().jsonPath().getLong("term");
    }

    /** The instance's leadership transitions: leader flag and wall-clock milliseconds. */
    public List<Map<String, Object>> history() {
        return http().port(port).get("/leader/history").then().statusCode(200).extract().jsonPath().getList("");
    }

    public void notify(String channel, Object body) {
        http().port(port).contentType(ContentType.JSON).body(body).post("/notify/" + channel).then().statusCode(204);
    }

    /** Stores a durable message through this instance; its id once committed. */
    public long send(String channel, String json) {
        return post("/send/" + channel, json);
    }

    /** Stores a durable message in a transaction that this instance then rolls back; the id that never committed. */
    public long sendRolledBack(String channel, String json) {
        return post("/send/" + channel + "?rollback=true", json);
    }

    /** A light client for the senders that run beside the test: RestAssured costs a 2-core machine too much CPU. */
    private long post(String path, String json) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(1)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        try {
            HttpResponse<String> response = SENDER.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("POST " + path + " to " + id + " answered " + response.statusCode()
                        + ": " + response.body());
            }
            return Long.parseLong(response.body().trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public List<Map<String, Object>> received(String channel) {
        Response response = http().port(port).get("/received/" + channel);
        return response.then().statusCode(200).extract().jsonPath().getList("");
    }

    /** How often each of the sample's leader-only scheduled jobs ran on this instance. */
    public Map<String, Integer> jobRuns() {
        return http().port(port).get("/jobs").then().statusCode(200).extract().jsonPath().getMap("");
    }

    /** SIGKILL: the process dies at once, without any shutdown. */
    public void kill() {
        process.destroyForcibly();
        waitForExit();
    }

    /** SIGTERM: a graceful shutdown, which hands the lock over. */
    public void stop() {
        process.destroy();
        waitForExit();
    }

    /** SIGTERM, then up to {@code limit} for the process to exit by itself; returns how long it took, or -1. */
    public long stopWithin(Duration limit) {
        long sent = System.nanoTime();
        process.destroy();
        try {
            return process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS) ? (System.nanoTime() - sent) / 1_000_000 : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** SIGSTOP: the process stops running code, its sockets stay open. */
    public void pause() {
        signal("STOP");
    }

    /** SIGCONT: the paused process runs again. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void waitForExit() {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The transitions the instance wrote down as they happened: readable after it has died. */
    public Path historyFile() {
        return historyFile(Path.of(System.getProperty("app.jar", "target/quarkus-app/quarkus-run.jar")), id);
    }

    private static Path historyFile(Path jar, String id) {
        return jar.toAbsolutePath().getParent().getParent().resolve("instances").resolve(id + ".history");
    }

    /** The durable messages the instance handled, one line each as it handled them: readable after it has died. */
    public Path handledFile() {
        return handledFile(Path.of(System.getProperty("app.jar", "target/quarkus-app/quarkus-run.jar")), id);
    }

    private static Path handledFile(Path jar, String id) {
        return jar.toAbsolutePath().getParent().getParent().resolve("instances").resolve(id + ".handled");
    }

    public Path log() {
        return log;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill(); // SIGKILL ends a paused process too
        }
    }

    @Override
    public String toString() {
        return id + " (pid " + process.pid() + ", port " + port + ")";
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
