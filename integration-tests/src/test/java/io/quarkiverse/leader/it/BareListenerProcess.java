package io.quarkiverse.leader.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import io.quarkiverse.leader.test.TestPostgres;

/** A {@link BareListener} in a JVM of its own, LISTENing on one channel of the benchmark's database. */
final class BareListenerProcess implements AutoCloseable {

    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;

    BareListenerProcess(String channel) throws IOException {
        process = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-Xmx128m", "-cp",
                System.getProperty("java.class.path"), BareListener.class.getName(), TestPostgres.url(), channel)
                .redirectErrorStream(true).start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream()));
        in = new PrintWriter(process.getOutputStream(), true);
        awaitLine("listening");
    }

    void reset() throws IOException {
        in.println("reset");
        awaitLine("reset");
    }

    /** Its percentiles in milliseconds and the count, once it has had {@code expected} messages or 30 s passed. */
    Map<String, Object> stats(int expected) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            in.println("stats");
            String[] parts = out.readLine().split(" ");
            if (Long.parseLong(parts[0]) >= expected || System.nanoTime() > deadline) {
                Map<String, Object> ms = new LinkedHashMap<>();
                ms.put("received", Long.parseLong(parts[0]));
                ms.put("p50", Long.parseLong(parts[1]) / 1000.0);
                ms.put("p99", Long.parseLong(parts[2]) / 1000.0);
                ms.put("p999", Long.parseLong(parts[3]) / 1000.0);
                return ms;
            }
            LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
        }
    }

    private void awaitLine(String expected) throws IOException {
        String line;
        while ((line = out.readLine()) != null && !line.equals(expected)) {
            // start-up output
        }
        if (line == null) {
            throw new IllegalStateException("the bare listener exited before saying '" + expected + "'");
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
