package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.event.Event;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.LeadershipChanged;
import io.quarkus.arc.Arc;
import io.quarkus.arc.ManagedContext;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Fires one election's {@link LeadershipChanged} events in order, as Quarkus runs a blocking {@code @Scheduled} job: on
 * a worker thread of the application, on a duplicated context of its own, with a request context that ends when the
 * synchronous observers return.
 */
final class LeadershipEvents {

    private static final Logger LOG = Logger.getLogger(LeadershipEvents.class);

    private final Event<LeadershipChanged> events;
    private final Context applicationContext;
    private final long timeoutMillis;
    private Future<Void> last = Future.succeededFuture(); // confined to the election's context

    LeadershipEvents(Event<LeadershipChanged> events, Context applicationContext, Duration observerTimeout) {
        this.events = events;
        this.applicationContext = applicationContext;
        this.timeoutMillis = Math.max(1, observerTimeout.toMillis());
    }

    /** @return completed once the synchronous observers have returned (or failed), after those of earlier events */
    Future<Void> fire(LeadershipChanged change) {
        // straight to a worker when nothing is ahead: no hop through an event loop of the application on the way
        Future<Void> fired = last.isComplete() ? onWorker(change) : last.transform(ar -> onWorker(change));
        // the next event waits for these observers, but no longer than observer-timeout: one that never returns must
        // not hold back every later event, nor make the chain grow
        last = fired.timeout(timeoutMillis, TimeUnit.MILLISECONDS).otherwiseEmpty();
        return fired;
    }

    private Future<Void> onWorker(LeadershipChanged change) {
        Context duplicate = VertxContext.createNewDuplicatedContext(applicationContext);
        VertxContextSafetyToggle.setContextSafe(duplicate, true);
        long fired = System.nanoTime();
        // completed on the worker itself, not through the duplicated context's event loop: the election hears of it
        // one hop sooner
        Promise<Void> returned = Promise.promise();
        duplicate.executeBlocking(() -> {
            long started = System.nanoTime();
            ManagedContext requestContext = Arc.container().requestContext();
            requestContext.activate();
            try {
                events.fire(change);
            } catch (RuntimeException e) {
                LOG.errorf(e, "An observer of %s failed; the election goes on", change);
            } finally {
                requestContext.terminate();
            }
            long returnedAt = System.nanoTime();
            // submitted before the next event can be: asynchronous observers see the changes in order too
            events.fireAsync(change).exceptionally(e -> {
                LOG.errorf(e, "An asynchronous observer of %s failed; the election goes on", change);
                return null;
            });
            returned.complete(); // the synchronous observers are done; the asynchronous ones follow on their own
            if (LOG.isDebugEnabled()) { // where a hand-over's time goes: the hop to a worker, then the observers
                LOG.debugf("Observers of %s: on a worker after %d us, returned after %d us", change,
                        (started - fired) / 1000, (returnedAt - started) / 1000);
            }
            return null;
        }, false).onFailure(e -> { // an Error thrown by an observer: what the catch above does not take
            LOG.errorf(e, "An observer of %s failed; the election goes on", change);
            returned.tryFail(e);
        });
        return returned.future();
    }
}
