package io.quarkiverse.leader.it;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.quarkiverse.leader.test.TestPostgres;

/**
 * PostgreSQL's own rate for a script: {@code pgbench} against the test database, with prepared statements, for a fixed
 * duration; the transactions per second it reports.
 */
final class Pgbench {

    static final Path PGBENCH = Path.of("/usr/bin/pgbench");

    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+)");

    private Pgbench() {
    }

    static boolean available() {
        return Files.isExecutable(PGBENCH);
    }

    /** Runs {@code script} with {@code clients} clients for {@code duration}: transactions per second, 0 on failure. */
    static double tps(String script, int clients, Duration duration) throws IOException, InterruptedException {
        return tps(script, clients, 0, duration);
    }

    /** The same, paced at {@code rate} transactions per second in all when above 0 ({@code pgbench -R}). */
    static double tps(String script, int clients, int rate, Duration duration)
            throws IOException, InterruptedException {
        if (!available()) {
            return 0;
        }
        URI db = URI.create(TestPostgres.url());
        Path file = Files.createTempFile("pgbench", ".sql");
        Path log = Files.createTempFile("pgbench", ".log");
        Files.writeString(file, script);
        try {
            String user = db.getUserInfo() == null ? "postgres" : db.getUserInfo().split(":")[0];
            List<String> command = new ArrayList<>(List.of(PGBENCH.toString(), "-n", "-M", "prepared", "-c",
                    Integer.toString(clients), "-j", Integer.toString(Math.min(clients, 2)), "-T",
                    Long.toString(duration.toSeconds()), "-f", file.toString(), "-h", db.getHost(), "-p",
                    Integer.toString(db.getPort()), "-U", user, db.getPath().substring(1)));
            if (rate > 0) {
                command.addAll(1, List.of("-R", Integer.toString(rate)));
            }
            Process run = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                boolean done = run.waitFor(duration.toSeconds() + 60, TimeUnit.SECONDS);
                String output = Files.readString(log);
                if (!done || run.exitValue() != 0) {
                    System.out.println("[bench] pgbench failed: " + output);
                    return 0;
                }
                Matcher tps = TPS.matcher(output);
                return tps.find() ? Double.parseDouble(tps.group(1)) : 0;
            } finally { // never left loading the database, also when interrupted
                if (run.isAlive()) {
                    run.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        } finally {
            Files.delete(file);
            Files.delete(log);
        }
    }
}
