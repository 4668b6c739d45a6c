package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.jboss.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * The calls of an election's methods that have not completed yet, abandoned ones and those of earlier terms included,
 * so that a departing leader can wait for them. Confined to the election's context.
 */
final class InFlightCalls {

    private static final Logger LOG = Logger.getLogger(NotificationDispatcher.class);

    private final Context context;
    private final List<Promise<Void>> drainWaiters = new ArrayList<>();
    private int running;

    InFlightCalls(Context context) {
        this.context = context;
    }

    void started() {
        running++;
    }

    void finished() {
        if (--running == 0) {
            drainWaiters.forEach(Promise::tryComplete);
            drainWaiters.clear();
        }
    }

    /** Completes when no call runs any more, or after {@code timeout}. */
    Future<Void> drained(Duration timeout) {
        if (running == 0) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        drainWaiters.add(done);
        long timer = context.owner().setTimer(Math.max(1, timeout.toMillis()), id -> {
            if (done.tryComplete()) {
                LOG.warnf("%d notification handler(s) still running after %s; releasing the lock anyway", running,
                        timeout);
            }
        });
        return done.future().onComplete(ar -> context.owner().cancelTimer(timer));
    }
}
