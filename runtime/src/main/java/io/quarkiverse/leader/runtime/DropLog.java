package io.quarkiverse.leader.runtime;

import java.util.function.IntFunction;

import org.jboss.logging.Logger;

import io.vertx.core.Context;

/**
 * Warns of one method's drops of one kind at a bounded rate: the first at once, the following ones gathered into at
 * most one line per {@link #INTERVAL_MILLIS}, each with the count since the line before. Confined to the election's
 * context.
 */
final class DropLog {

    static final long INTERVAL_MILLIS = 5_000;

    private static final Logger LOG = Logger.getLogger(NotificationDispatcher.class);

    private final Context context;
    private final IntFunction<String> message;
    private long lastLine = System.nanoTime() - INTERVAL_MILLIS * 1_000_000;
    private int pending;
    private boolean flushScheduled;

    /** {@code message} gives the line for a count. */
    DropLog(Context context, IntFunction<String> message) {
        this.context = context;
        this.message = message;
    }

    void dropped(int count) {
        pending += count;
        if (flushScheduled) {
            return;
        }
        long sinceLast = (System.nanoTime() - lastLine) / 1_000_000;
        if (sinceLast >= INTERVAL_MILLIS) {
            flush();
        } else {
            // the count of a burst that ends within the interval is still told, once the interval is over
            flushScheduled = true;
            context.owner().setTimer(INTERVAL_MILLIS - sinceLast, id -> {
                flushScheduled = false;
                flush();
            });
        }
    }

    private void flush() {
        if (pending > 0) {
            LOG.warn(message.apply(pending));
            pending = 0;
            lastLine = System.nanoTime();
        }
    }
}
