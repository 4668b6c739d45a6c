package io.quarkiverse.leader.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.sqlclient.Row;

/**
 * What the PostgreSQL server (on this machine) has done so far: the CPU time of the postmaster and all its children,
 * from {@code /proc}, and the transactions of the test database, from {@code pg_stat_database}. Read before and after
 * a window; the difference is the window's.
 *
 * @param cpuMicros user and system time of the postmaster, its live children and the children that ended (which the
 *        kernel adds to the postmaster's own counters once reaped); 0 where {@code /proc} or the pid cannot be read
 * @param transactions commits and rollbacks in the test database: every statement outside a transaction block is one,
 *        and a wait in {@code pg_advisory_lock} that {@code lock_timeout} ends is a rollback
 */
record ServerCounters(long cpuMicros, long transactions) {

    private static final long TICKS_PER_SECOND = 100;

    static ServerCounters now() {
        // a fresh snapshot: pg_stat_* values are otherwise cached for the rest of the transaction
        Row row = TestPostgres.sql("SELECT xact_commit + xact_rollback FROM pg_stat_database"
                + " WHERE datname = current_database()").get(0);
        return new ServerCounters(cpuMicros(postmasterPid()), row.getLong(0));
    }

    ServerCounters since(ServerCounters before) {
        return new ServerCounters(cpuMicros - before.cpuMicros, transactions - before.transactions);
    }

    /** The postmaster's pid, from the first line of postmaster.pid in the data directory; -1 if it cannot be read. */
    static long postmasterPid() {
        try {
            String dir = TestPostgres.sql("SHOW data_directory").get(0).getString(0);
            return Long.parseLong(Files.readAllLines(Path.of(dir, "postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            return -1; // another machine's server, or no superuser
        }
    }

    private static long cpuMicros(long postmaster) {
        if (postmaster < 0) {
            return 0;
        }
        long ticks = 0;
        try (var procs = Files.list(Path.of("/proc"))) {
            List<Path> processes = procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .toList();
            for (Path proc : processes) {
                long[] stat = stat(proc);
                if (stat == null) {
                    continue;
                }
                long pid = Long.parseLong(proc.getFileName().toString());
                if (pid == postmaster) {
                    ticks += stat[1] + stat[2] + stat[3] + stat[4]; // its own, and its ended children's
                } else if (stat[0] == postmaster) {
                    ticks += stat[1] + stat[2];
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return ticks * 1_000_000 / TICKS_PER_SECOND;
    }

    /** ppid, utime, stime, cutime, cstime of a process; null if it ended meanwhile. */
    private static long[] stat(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"));
            // the fields after the command name, which is in parentheses and may hold spaces
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[] { Long.parseLong(f[1]), Long.parseLong(f[11]), Long.parseLong(f[12]),
                    Long.parseLong(f[13]), Long.parseLong(f[14]) };
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The client sessions of the test database now, other than the caller's: application_name of each. */
    static List<String> sessions() {
        return TestPostgres.sql("SELECT coalesce(application_name, '') FROM pg_stat_activity"
                + " WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
                .stream().map(r -> r.getString(0)).toList();
    }
}
