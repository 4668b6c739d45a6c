package io.quarkiverse.leader.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.JavaArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.QuarkusDevModeTest;

/**
 * The sample application in dev mode, its Dev UI driven in a headless Chromium with playwright-core: the Leader card's
 * Elections page shows each election with its lock, role, leader, term, channels and methods, and its form sends a
 * test notification that the sample's handler receives; the Dead letters page lists the durable channels. The pages
 * are saved as {@code target/devui-elections.png} and {@code target/devui-dead-letters.png}.
 * <p>
 * Dev mode runs as Quarkus' own dev-mode tests run it ({@link QuarkusDevModeTest}, in this JVM), so that the test
 * can stop it within its bound and read its log.
 */
@EnabledIf(value = "browserAvailable", disabledReason = "needs /usr/bin/chromium (apt-get install chromium) and node")
class DevUiBrowserIT {

    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
    static final Path JS = Path.of("src/test/js");
    static final Path NODE_PROJECT = Path.of("target/devui-js");
    static final Path SCREENSHOTS = Path.of("target").toAbsolutePath();
    static final String PAYLOAD = "{\"from\":\"the dev ui\",\"n\":42}";
    /**
     * The application's port, as {@link #sample} chose it for this JVM: it may run more than once, and in the class as
     * JUnit loaded it while the test runs in the class as Quarkus loaded it again.
     */
    static final Path CHOSEN = Path.of("target/devui-js/chosen.properties");

    @RegisterExtension
    static final QuarkusDevModeTest DEV_MODE = new QuarkusDevModeTest().withApplicationRoot(DevUiBrowserIT::sample);

    private final ObjectMapper json = new ObjectMapper();

    static boolean browserAvailable() {
        return Files.isExecutable(CHROMIUM) && succeeds(Duration.ofSeconds(10), "node", "--version");
    }

    @Test
    void theElectionsPageShowsEachElectionAndSendsATestNotification() throws Exception {
        installPlaywright();
        int port = Integer.parseInt(chosen().getProperty("port"));
        // this instance leads both elections before the page is read; dev mode's first request scans for changes
        await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> given().port(port)
                .get("/leader/elections").then().extract().jsonPath().getList("leader").stream()
                .allMatch(Boolean.TRUE::equals));
        // the locks are those PostgresResource chose for the application
        long lock = given().port(port).get("/leader/elections").then().extract().jsonPath().getLong("[0].lock");

        List<String> output = run(Duration.ofSeconds(180), "node", "devui-test.mjs", "http://127.0.0.1:" + port,
                SCREENSHOTS.toString(), "<default>", "raw", PAYLOAD);
        assertThat(output).as("the script's output").noneMatch(line -> line.startsWith("FAILED"))
                .contains("SCREENSHOT " + SCREENSHOTS.resolve("devui-elections.png"),
                        "SCREENSHOT " + SCREENSHOTS.resolve("devui-dead-letters.png"));
        List<JsonNode> elections = output.stream().filter(line -> line.startsWith("ELECTION "))
                .map(line -> read(line.substring("ELECTION ".length()))).toList();
        assertThat(elections).extracting(e -> e.get("name").asText()).containsExactly("<default>", "reports");
        // every column in sight, long method signatures included
        assertThat(elections).allSatisfy(e -> assertThat(e.get("hidden")).as("cells out of sight").isEmpty());

        JsonNode byDefault = elections.get(0);
        assertThat(byDefault.get("text").asText())
                .contains("lock " + lock, "this instance devui-it is leader", "leader devui-it in term ");
        assertThat(texts(byDefault.get("channels"))).contains("events", "raw", "orders", "payments", "slow");
        assertThat(texts(byDefault.get("cells"))).contains("raw",
                "io.quarkiverse.leader.it.ReceivedNotifications#onRaw(String)", "worker");
        JsonNode reports = elections.get(1);
        assertThat(reports.get("text").asText())
                .contains("lock " + (lock + 1), "this instance devui-it is leader", "leader devui-it in term ");
        assertThat(texts(reports.get("channels"))).containsExactly("reports");
        assertThat(texts(reports.get("cells"))).contains(
                "io.quarkiverse.leader.it.ReceivedNotifications#onReport(com.fasterxml.jackson.databind.JsonNode)");

        assertThat(output).contains("SENT Sent on channel raw (<default>)");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(given().port(port).get("/received/raw")
                .then().statusCode(200).extract().jsonPath().getList("n")).containsExactly(42));

        JsonNode durable = output.stream().filter(line -> line.startsWith("DEAD_LETTERS "))
                .map(line -> read(line.substring("DEAD_LETTERS ".length()))).findFirst().orElseThrow();
        assertThat(texts(durable.get("channels")))
                .containsExactly("bench_durable", "bench_once", "bench_once_unordered", "orders", "payments");
        assertThat(texts(durable.get("cells"))).contains("at least once, ordered", "exactly once",
                "io.quarkiverse.leader.it.ReceivedNotifications#onOrder(com.fasterxml.jackson.databind.JsonNode)");
        assertThat(durable.get("hidden")).as("cells out of sight").isEmpty();
    }

    /**
     * The sample's classes as the build compiled them, and its configuration, with the database and the locks of
     * {@link PostgresResource} (test resources do not reach a dev-mode test).
     */
    private static void sample(JavaArchive jar) {
        Path classes = Path.of("target/classes");
        try (Stream<Path> files = Files.walk(classes)) {
            Properties chosen = chosen();
            if (!Long.toString(ProcessHandle.current().pid()).equals(chosen.getProperty("pid"))) {
                Files.createDirectories(CHOSEN.getParent());
                Files.writeString(CHOSEN, "pid=" + ProcessHandle.current().pid() + "\nport=" + freePort() + "\n");
                chosen = chosen();
            }
            String port = chosen.getProperty("port");
            files.filter(f -> f.toString().endsWith(".class"))
                    .forEach(f -> jar.addAsResource(f.toFile(), classes.relativize(f).toString()));
            String properties = Files.readString(Path.of("src/main/resources/application.properties"))
                    + String.join("\n", "",
                            "quarkus.http.host=127.0.0.1",
                            "quarkus.http.port=" + port,
                            "quarkus.datasource.devservices.enabled=false",
                            "quarkus.leader.instance-id=devui-it")
                    + new PostgresResource().start().entrySet().stream()
                            .map(e -> "\n" + e.getKey() + "=" + e.getValue()).collect(Collectors.joining());
            jar.addAsResource(new StringAsset(properties), "application.properties");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** playwright-core as the lock file pins it, into target/; not its browser download: Chromium comes from apt. */
    private static void installPlaywright() throws IOException {
        Files.createDirectories(NODE_PROJECT);
        Path lock = NODE_PROJECT.resolve("package-lock.json");
        boolean installed = Files.exists(NODE_PROJECT.resolve("node_modules/playwright-core/package.json"))
                && Files.exists(lock) && Files.mismatch(lock, JS.resolve("package-lock.json")) == -1;
        for (String file : List.of("package.json", "package-lock.json", "devui-test.mjs")) {
            Files.copy(JS.resolve(file), NODE_PROJECT.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!installed) {
            List<String> output = run(Duration.ofSeconds(180), "npm", "ci", "--no-audit", "--no-fund");
            assertThat(Files.exists(NODE_PROJECT.resolve("node_modules/playwright-core/package.json")))
                    .as("npm ci: %s", output).isTrue();
        }
    }

    /** Runs a command in the node project, bounded; its output lines, once it has exited 0. */
    private static List<String> run(Duration limit, String... command) throws IOException {
        Path output = NODE_PROJECT.resolve(command[0] + ".out");
        Process process = new ProcessBuilder(command).directory(NODE_PROJECT.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile()).start();
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " took over " + limit + ": "
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException(e);
        }
        List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as("exit code of %s, output %s", String.join(" ", command), lines).isZero();
        return lines;
    }

    private static boolean succeeds(Duration limit, String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return false;
            }
            return process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private JsonNode read(String text) {
        try {
            return json.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }

    private static Properties chosen() throws IOException {
        Properties chosen = new Properties();
        if (Files.exists(CHOSEN)) {
            try (Reader reader = Files.newBufferedReader(CHOSEN)) {
                chosen.load(reader);
            }
        }
        return chosen;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
