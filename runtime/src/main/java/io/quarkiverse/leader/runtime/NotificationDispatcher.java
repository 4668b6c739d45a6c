package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.arc.Arc;
import io.quarkus.arc.InjectableContext.ContextState;
import io.quarkus.arc.ManagedContext;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.quarkus.virtual.threads.VirtualThreadsRecorder;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.invoke.Invoker;

/**
 * Routes the leader's notifications to the {@code @OnLeaderNotification} methods of their channel. Called on the
 * election's context, where its queues live; each method has its own queue, so an ordered method sees one notification at a time.
 */
final class NotificationDispatcher {

    private static final Logger LOG = Logger.getLogger(NotificationDispatcher.class);

    private final String election;
    private final Context context;
    private final Context applicationContext;
    private final BooleanSupplier leading;
    private final LeaderMetrics metrics;
    /** What a call that was skipped, because leadership ended before it could run, completes with. */
    private static final Object SKIPPED = new Object();

    private final Map<String, List<Handler>> byChannel = new HashMap<>();
    private final List<Promise<Void>> drainWaiters = new ArrayList<>();
    private int inFlight;

    NotificationDispatcher(String election, List<NotificationMethod> methods, ObjectMapper mapper, Context context,
            Context applicationContext, BooleanSupplier leading, LeaderMetrics metrics) {
        this.election = election;
        this.context = context;
        this.applicationContext = applicationContext;
        this.leading = leading;
        this.metrics = metrics;
        for (NotificationMethod method : methods) {
            byChannel.computeIfAbsent(method.channel, c -> new ArrayList<>()).add(new Handler(method, mapper));
        }
    }

    void dispatch(String channel, String payload) {
        List<Handler> handlers = byChannel.get(channel);
        if (handlers == null) { // the leader LISTENs only on the channels of its methods: not expected
            LOG.debugf("Ignored a notification on channel '%s', which no method handles", channel);
            return;
        }
        metrics.received(election, channel);
        for (Handler handler : handlers) {
            handler.offer(payload);
        }
    }

    /** Leadership is lost: what is queued must not run, even if this instance leads again soon. */
    void discardQueued() {
        byChannel.values().forEach(handlers -> handlers.forEach(Handler::discardQueued));
    }

    /** Completes when no handler runs any more, or after {@code timeout}. */
    Future<Void> drain(Duration timeout) {
        if (inFlight == 0) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        drainWaiters.add(done);
        long timer = context.owner().setTimer(Math.max(1, timeout.toMillis()), id -> {
            if (done.tryComplete()) {
                LOG.warnf("%d notification handler(s) still running after %s; releasing the lock anyway", inFlight,
                        timeout);
            }
        });
        return done.future().onComplete(ar -> context.owner().cancelTimer(timer));
    }

    private void finished() {
        if (--inFlight == 0) {
            drainWaiters.forEach(Promise::tryComplete);
            drainWaiters.clear();
        }
    }

    /** One method's queue. */
    private final class Handler {
        private final NotificationMethod method;
        private final Invoker<Object, Object> invoker;
        private final ObjectMapper mapper;
        private final JavaType payloadType;
        private final ArrayDeque<String> queue = new ArrayDeque<>();
        private boolean busy;

        Handler(NotificationMethod method, ObjectMapper mapper) {
            this.method = method;
            this.invoker = method.invoker.getValue();
            this.mapper = mapper;
            this.payloadType = method.payloadKind == NotificationMethod.PayloadKind.JACKSON
                    ? javaType(mapper, method.payloadType)
                    : null;
        }

        void offer(String payload) {
            if (!method.ordered) {
                run(payload);
                return;
            }
            queue.add(payload);
            if (!busy) {
                next();
            }
        }

        private void next() {
            String payload = queue.poll();
            if (payload == null) {
                return;
            }
            if (!leading.getAsBoolean()) {
                queue.addFirst(payload);
                discardQueued();
                return;
            }
            busy = true;
            run(payload);
        }

        private void run(String payload) {
            Object[] args;
            try {
                args = arguments(payload);
            } catch (Exception e) {
                LOG.errorf("Notification on channel '%s' not passed to %s: its payload is not a valid %s (%s); payload: %s",
                        method.channel, method.description, method.payloadType, e.getMessage(), abbreviate(payload));
                metrics.handled(method.election, method.channel, method.description, 0, true);
                context.runOnContext(v -> done()); // not done() itself: a run of bad payloads must not deepen the stack
                return;
            }
            inFlight++;
            long started = System.nanoTime();
            execute(args).whenComplete((outcome, failure) -> context.runOnContext(v -> {
                if (outcome == SKIPPED) {
                    metrics.dropped(method.election, method.channel, method.description, 1);
                } else {
                    metrics.handled(method.election, method.channel, method.description, System.nanoTime() - started,
                            failure != null);
                }
                if (failure != null) {
                    LOG.errorf(failure, "%s failed on a notification on channel '%s'; the next notification is still handled",
                            method.description, method.channel);
                }
                finished();
                done();
            }));
        }

        void discardQueued() {
            if (!queue.isEmpty()) {
                LOG.warnf("Dropped %d queued notification(s) for %s: this instance no longer leads", queue.size(),
                        method.description);
                metrics.dropped(method.election, method.channel, method.description, queue.size());
                queue.clear();
            }
        }

        private void done() {
            if (method.ordered) {
                busy = false;
                next();
            }
        }

        private Object[] arguments(String payload) throws Exception {
            return switch (method.payloadKind) {
                case NONE -> new Object[0];
                case STRING -> new Object[] { payload };
                case JSON_OBJECT -> new Object[] { new JsonObject(payload) };
                case JSON_NODE -> new Object[] { mapper.readTree(payload) };
                case JACKSON -> new Object[] { mapper.readValue(payload, payloadType) };
            };
        }

        /**
         * Runs the method on a duplicated context of its own of the application's Vert.x (as Quarkus runs any event
         * handler, and never on the election's event loop), on the thread its execution model asks for, unless
         * leadership has ended while it waited for that thread.
         */
        private CompletionStage<Object> execute(Object[] args) {
            Context duplicate = VertxContext.createNewDuplicatedContext(applicationContext);
            VertxContextSafetyToggle.setContextSafe(duplicate, true);
            CompletableFuture<Object> result = new CompletableFuture<>();
            Runnable task = () -> {
                if (!leading.getAsBoolean()) {
                    LOG.debugf("Dropped a notification for %s: leadership ended before it could run", method.description);
                    result.complete(SKIPPED);
                    return;
                }
                invoke(args).whenComplete((r, t) -> {
                    if (t != null) {
                        result.completeExceptionally(t);
                    } else {
                        result.complete(r);
                    }
                });
            };
            try {
                switch (method.executionModel) {
                    case EVENT_LOOP -> duplicate.runOnContext(v -> task.run());
                    case WORKER -> duplicate.executeBlocking(() -> {
                        task.run();
                        return null;
                    }, false).onFailure(result::completeExceptionally);
                    case VIRTUAL_THREAD -> duplicate.runOnContext(v -> {
                        try {
                            VirtualThreadsRecorder.getCurrent().execute(task);
                        } catch (RuntimeException e) {
                            result.completeExceptionally(e);
                        }
                    });
                }
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
            return result;
        }

        /**
         * Invokes within a request context of its own. For an asynchronous result the context stays with the
         * duplicated context, so that continuations see it, and is destroyed when the result completes.
         */
        private CompletionStage<Object> invoke(Object[] args) {
            ManagedContext requestContext = Arc.container().requestContext();
            requestContext.activate();
            try {
                Object result = invoker.invoke(null, args);
                if (result instanceof CompletionStage<?> stage) {
                    ContextState state = requestContext.getState();
                    return stage.<Object> thenApply(r -> r).whenComplete((r, t) -> requestContext.destroy(state));
                }
                requestContext.terminate();
                return CompletableFuture.completedFuture(result);
            } catch (Throwable t) {
                requestContext.terminate();
                return CompletableFuture.failedFuture(t);
            }
        }
    }

    /** Jackson's canonical type names have no array syntax: build {@code Foo[]} from {@code Foo}. */
    static JavaType javaType(ObjectMapper mapper, String canonical) {
        if (canonical.endsWith("[]")) {
            return mapper.getTypeFactory()
                    .constructArrayType(javaType(mapper, canonical.substring(0, canonical.length() - 2)));
        }
        return mapper.getTypeFactory().constructFromCanonical(canonical);
    }

    private static String abbreviate(String payload) {
        return payload.length() <= 200 ? payload : payload.substring(0, 200) + "...";
    }
}
