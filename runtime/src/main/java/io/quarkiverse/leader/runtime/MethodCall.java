package io.quarkiverse.leader.runtime;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

import jakarta.enterprise.invoke.Invoker;

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
import io.vertx.core.json.JsonObject;

/**
 * Calls one {@code @OnLeaderNotification} method as Quarkus calls any event handler: the payload read as its parameter,
 * on the thread its execution model asks for, on a duplicated context of the application's Vert.x (never on the
 * election's event loop) with a request context of its own.
 */
final class MethodCall {

    private static final Logger LOG = Logger.getLogger(MethodCall.class);

    /** What a call that was skipped, because leadership ended or it was abandoned before it could run, completes with. */
    static final Object SKIPPED = new Object();

    /** A call that stays wanted until it runs: leadership alone decides. */
    static final BooleanSupplier ALWAYS = () -> true;

    private final NotificationMethod method;
    private final Invoker<Object, Object> invoker;
    private final ObjectMapper mapper;
    private final JavaType payloadType;
    private final Context applicationContext;
    private final BooleanSupplier leading;

    MethodCall(NotificationMethod method, ObjectMapper mapper, Context applicationContext, BooleanSupplier leading) {
        this.method = method;
        this.invoker = method.invoker.getValue();
        this.mapper = mapper;
        this.payloadType = method.payloadKind == NotificationMethod.PayloadKind.JACKSON
                ? javaType(mapper, method.payloadType)
                : null;
        this.applicationContext = applicationContext;
        this.leading = leading;
    }

    /** A payload that is not a valid value of the method's parameter; the method is not called. */
    static final class InvalidPayloadException extends Exception {
        InvalidPayloadException(Exception cause) {
            super(cause);
        }
    }

    /** The method's arguments for {@code payload}; throws when the payload is not a valid value of its parameter. */
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
     * Reads the payload and runs the method, unless leadership has ended, or the call is no longer {@code wanted}, when
     * it gets its thread: then it completes with {@link #SKIPPED}. A payload that cannot be read fails it with
     * {@link InvalidPayloadException}.
     */
    CompletionStage<Object> run(String payload, BooleanSupplier wanted) {
        return run(payload, wanted, null);
    }

    /** As {@link #run(String, BooleanSupplier)}, with {@code extra} (a durable method's fenced connection) last. */
    CompletionStage<Object> run(String payload, BooleanSupplier wanted, Object extra) {
        Context duplicate = VertxContext.createNewDuplicatedContext(applicationContext);
        VertxContextSafetyToggle.setContextSafe(duplicate, true);
        CompletableFuture<Object> result = new CompletableFuture<>();
        Runnable task = () -> {
            if (!leading.getAsBoolean() || !wanted.getAsBoolean()) {
                LOG.debugf("Dropped a notification for %s: leadership ended, or the call was abandoned, before it could"
                        + " run", method.description);
                result.complete(SKIPPED);
                return;
            }
            Object[] args;
            try {
                args = arguments(payload);
                if (extra != null) {
                    args = Arrays.copyOf(args, args.length + 1);
                    args[args.length - 1] = extra;
                }
            } catch (Exception e) {
                result.completeExceptionally(new InvalidPayloadException(e));
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
     * Invokes within a request context of its own. For an asynchronous result the context stays with the duplicated
     * context, so that continuations see it, and is destroyed when the result completes.
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

    /** Jackson's canonical type names have no array syntax: build {@code Foo[]} from {@code Foo}. */
    static JavaType javaType(ObjectMapper mapper, String canonical) {
        if (canonical.endsWith("[]")) {
            return mapper.getTypeFactory()
                    .constructArrayType(javaType(mapper, canonical.substring(0, canonical.length() - 2)));
        }
        return mapper.getTypeFactory().constructFromCanonical(canonical);
    }
}
