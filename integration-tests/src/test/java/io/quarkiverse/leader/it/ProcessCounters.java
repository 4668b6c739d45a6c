package io.quarkiverse.leader.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A process's CPU time and context switches so far, from {@code /proc} (Linux): read before and after a run, the
 * difference says how much CPU a message cost and how often the process's threads went to sleep and woke per message.
 *
 * @param cpuMicros user and system time of all its threads
 * @param voluntarySwitches times a thread gave up the CPU to wait (a park, an epoll wait): each is a wake-up later;
 *        only threads alive at both readings count (the kernel keeps no total of the ones that ended)
 * @param involuntarySwitches times a thread was preempted
 */
record ProcessCounters(long cpuMicros, long voluntarySwitches, long involuntarySwitches) {

    /** The kernel's clock ticks per second for /proc/[pid]/stat; 100 on Linux unless built otherwise. */
    private static final long TICKS_PER_SECOND = 100;

    /** The counters of process {@code pid} now; zeros where {@code /proc} cannot be read. */
    static ProcessCounters of(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // the fields after the command name, which is in parentheses and may hold spaces
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
            long voluntary = 0;
            long involuntary = 0;
            try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
                for (Path task : tasks.toList()) {
                    List<String> status;
                    try {
                        status = Files.readAllLines(task.resolve("status"));
                    } catch (NoSuchFileException e) {
                        continue; // a thread that ended meanwhile: its switches are gone with it
                    }
                    for (String line : status) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            voluntary += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            involuntary += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                }
            }
            return new ProcessCounters(ticks * 1_000_000 / TICKS_PER_SECOND, voluntary, involuntary);
        } catch (IOException | RuntimeException e) {
            return new ProcessCounters(0, 0, 0); // no /proc
        }
    }

    /** What happened from {@code before} to this reading. */
    ProcessCounters since(ProcessCounters before) {
        return new ProcessCounters(cpuMicros - before.cpuMicros, voluntarySwitches - before.voluntarySwitches,
                involuntarySwitches - before.involuntarySwitches);
    }
}
