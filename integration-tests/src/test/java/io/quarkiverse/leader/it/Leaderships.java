package io.quarkiverse.leader.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The leadership of sample processes as their history files tell it (the sample appends each transition as it
 * happens, so a history outlives its process): each instance's transitions, the intervals in which each led, and
 * whether two of them ever led at once.
 */
final class Leaderships {

    private Leaderships() {
    }

    /** One transition: leader or not, from wall-clock millisecond {@code at}, in {@code term}. */
    record Transition(boolean leader, long at, long term) {
    }

    /** An interval in which {@code instance} led, in {@code term}. */
    record Interval(String instance, long from, long to, long term) {
    }

    static List<Transition> history(AppInstance instance) {
        try {
            if (!Files.exists(instance.historyFile())) {
                return List.of();
            }
            return Files.readAllLines(instance.historyFile()).stream().filter(l -> !l.isBlank())
                    .map(l -> l.split(" "))
                    .map(p -> new Transition(Boolean.parseBoolean(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** When {@code instance} last became leader ({@code leader}) or stopped leading. */
    static long last(AppInstance instance, boolean leader) {
        return history(instance).stream().filter(t -> t.leader() == leader).mapToLong(Transition::at).max()
                .orElseThrow();
    }

    /** When {@code instance} first became leader at or after {@code since}, or -1. */
    static long firstLeadSince(AppInstance instance, long since) {
        return history(instance).stream().filter(t -> t.leader() && t.at() >= since).mapToLong(Transition::at).min()
                .orElse(-1);
    }

    /**
     * Every interval in which one of {@code instances} led, by start: one still open, or cut short by the instance's
     * death, ends at {@code end} of that instance.
     */
    static List<Interval> intervals(List<AppInstance> instances, ToLongFunction<AppInstance> end) {
        List<Interval> intervals = new ArrayList<>();
        for (AppInstance instance : instances) {
            long last = end.applyAsLong(instance);
            Transition open = null;
            for (Transition t : history(instance)) {
                if (t.leader() && open == null) {
                    open = t;
                } else if (!t.leader() && open != null) {
                    intervals.add(new Interval(instance.id(), open.at(), Math.min(t.at(), last), open.term()));
                    open = null;
                }
            }
            if (open != null) {
                intervals.add(new Interval(instance.id(), open.at(), last, open.term()));
            }
        }
        intervals.sort(Comparator.comparingLong(Interval::from));
        return intervals;
    }

    /** How many milliseconds, within {@code from} to {@code to}, two instances both led. */
    static long overlap(List<Interval> intervals, long from, long to) {
        long overlap = 0;
        for (int a = 0; a < intervals.size(); a++) {
            for (int b = a + 1; b < intervals.size(); b++) {
                Interval x = intervals.get(a);
                Interval y = intervals.get(b);
                if (!x.instance().equals(y.instance())) {
                    overlap += Math.max(0, Math.min(Math.min(x.to(), y.to()), to) - Math.max(Math.max(x.from(), y.from()),
                            from));
                }
            }
        }
        return overlap;
    }
}
