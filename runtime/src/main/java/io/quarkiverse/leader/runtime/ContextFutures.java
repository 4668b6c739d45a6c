package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Vert.x futures brought back to one context, whichever thread completes them (an application worker, a timer of
 * another event loop), so that state confined to that context is only ever touched there.
 */
final class ContextFutures {

    private final Context context;

    ContextFutures(Context context) {
        this.context = context;
        // links the callbacks of onContext now: their first use is otherwise on the hand-over path, where linking a
        // lambda for the first time costs up to a millisecond
        onContext(Future.succeededFuture());
    }

    /** {@code action} run on the context; its outcome delivered there. */
    <T> Future<T> onContext(Supplier<Future<T>> action) {
        Promise<T> promise = Promise.promise();
        context.runOnContext(v -> action.get().onComplete(promise));
        return promise.future();
    }

    /** The outcome of {@code future}, delivered on the context. */
    <T> Future<T> onContext(Future<T> future) {
        Promise<T> promise = Promise.promise();
        future.onComplete(ar -> context.runOnContext(v -> promise.handle(ar)));
        return promise.future();
    }

    /** {@code future}, or a timeout failure after {@code limit}; delivered on the context. */
    <T> Future<T> bounded(Future<T> future, Duration limit) {
        return onContext(future.timeout(Math.max(1, limit.toMillis()), TimeUnit.MILLISECONDS));
    }
}
