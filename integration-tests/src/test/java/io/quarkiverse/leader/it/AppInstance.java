package io.quarkiverse.leader.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.restassured.http.ContentType;
import io.restassured.response.Response;

/**
 * One process of the packaged sample application ({@code target/quarkus-app/quarkus-run.jar}).
 */
public final class AppInstance implements AutoCloseable {

    private final String id;
    private final int port;
    private final Process process;
    private final Path log;

    private AppInstance(String id, int port, Process process, Path log) {
        this.id = id;
        this.port = port;
        this.process = process;
        this.log = log;
    }

    /** Starts an instance on the given database and lock, and waits until it answers HTTP. */
    public static AppInstance start(String id, String databaseUrl, long lock, Map<String, String> config) {
        Path jar = Path.of(System.getProperty("app.jar", "target/quarkus-app/quarkus-run.jar"));
        if (!Files.exists(jar)) {
            throw new IllegalStateException("No packaged application at " + jar + ": run mvn package first");
        }
        int port = freePort();
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("-Xmx128m");
        command.add("-Dquarkus.http.port=" + port);
        command.add("-Dquarkus.datasource.reactive.url=" + databaseUrl);
        command.add("-Dquarkus.leader.lock=" + lock);
        command.add("-Dquarkus.leader.instance-id=" + id);
        config.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-jar");
        command.add(jar.toString());
        try {
            Path log = Files.createDirectories(jar.getParent().getParent().resolve("instances")).resolve(id + ".log");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            AppInstance instance = new AppInstance(id, port, process, log);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException(id + " exited at start-up; see " + log);
                        }
                        return instance.leaderState() != null;
                    });
            return instance;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String id() {
        return id;
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
            return given().port(port).get("/leader").then().statusCode(200).extract().path("leader");
        } catch (RuntimeException e) {
            return null;
        }
    }

    public boolean isLeader() {
        return Boolean.TRUE.equals(leaderState());
    }

    /** The instance's leadership transitions: leader flag and wall-clock milliseconds. */
    public List<Map<String, Object>> history() {
        return given().port(port).get("/leader/history").then().statusCode(200).extract().jsonPath().getList("");
    }

    public void notify(String channel, Object body) {
        given().port(port).contentType(ContentType.JSON).body(body).post("/notify/" + channel).then().statusCode(204);
    }

    public List<Map<String, Object>> received(String channel) {
        Response response = given().port(port).get("/received/" + channel);
        return response.then().statusCode(200).extract().jsonPath().getList("");
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

    private void waitForExit() {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public Path log() {
        return log;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
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
