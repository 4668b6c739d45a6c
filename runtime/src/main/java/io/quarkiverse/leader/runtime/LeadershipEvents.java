package io.quarkiverse.leader.runtime;

import jakarta.enterprise.event.Event;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.LeadershipChanged;
import io.quarkus.arc.Arc;
import io.quarkus.arc.ManagedContext;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Future;

/**
 * Fires one election's {@link LeadershipChanged} events in order, as Quarkus runs a blocking {@code @Scheduled} job: on
 * a worker thread of the application, on a duplicated context of its own, with a request context that ends when the
 * synchronous observers return.
 */
final class LeadershipEvents {

    private static final Logger LOG = Logger.getLogger(LeadershipEvents.class);

    private final Event<LeadershipChanged> events;
    private final Context applicationContext;
    private Future<Void> last = Future.succeededFuture(); // confined to the election's context

    LeadershipEvents(Event<LeadershipChanged> events, Context applicationContext) {
        this.events = events;
        this.applicationContext = applicationContext;
    }

    /** @return completed once the synchronous observers have returned (or failed), after those of earlier events */
    Future<Void> fire(LeadershipChanged change) {
        Future<Void> fired = last.transform(ar -> onWorker(change));
        last = fired;
        return fired;
    }

    private Future<Void> onWorker(LeadershipChanged change) {
        Context duplicate = VertxContext.createNewDuplicatedContext(applicationContext);
        VertxContextSafetyToggle.setContextSafe(duplicate, true);
        return duplicate.executeBlocking(() -> {
            ManagedContext requestContext = Arc.container().requestContext();
            requestContext.activate();
            try {
                events.fire(change);
            } catch (RuntimeException e) {
                LOG.errorf(e, "An observer of %s failed; the election goes on", change);
            } finally {
                requestContext.terminate();
            }
            events.fireAsync(change).exceptionally(e -> {
                LOG.errorf(e, "An asynchronous observer of %s failed; the election goes on", change);
                return null;
            });
            return null;
        }, false);
    }
}
