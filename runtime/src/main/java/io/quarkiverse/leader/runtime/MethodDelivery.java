package io.quarkiverse.leader.runtime;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;

/**
 * Delivers one method's notifications: runs as many calls at once as it may (one for an ordered method), keeps the
 * others in its bounded {@link Mailbox}, abandons a call that runs past {@code handler-timeout}, and begins every term
 * with all its places free. Confined to the election's context.
 */
final class MethodDelivery {

    private static final Logger LOG = Logger.getLogger(NotificationDispatcher.class);

    private final NotificationMethod method;
    private final MethodCall call;
    private final Context context;
    private final BooleanSupplier leading;
    private final LeaderMetrics metrics;
    private final InFlightCalls inFlight;
    private final Mailbox mailbox;
    private final int limit;
    private final long timeoutMillis; // 0: no timeout
    private final DropLog overflows;
    private final DropLog timeouts;
    private volatile int term; // read by calls that wait for a thread
    private int running; // calls of this term that hold a place

    MethodDelivery(NotificationMethod method, MethodCall call, DeliverySettings settings, Context context,
            BooleanSupplier leading, LeaderMetrics metrics, InFlightCalls inFlight) {
        this.method = method;
        this.call = call;
        this.context = context;
        this.leading = leading;
        this.metrics = metrics;
        this.inFlight = inFlight;
        this.mailbox = new Mailbox(settings.queueSize(), settings.overflow());
        this.limit = method.ordered ? 1 : settings.maxConcurrency();
        this.timeoutMillis = settings.handlerTimeout().map(t -> Math.max(1, t.toMillis())).orElse(0L);
        String overflow = settings.overflow().name().toLowerCase().replace('_', '-');
        this.overflows = new DropLog(context, n -> String.format("Dropped %d notification(s) for %s on channel '%s': its"
                + " mailbox was full (queue-size %d, overflow %s); this is logged at most once every %d s per method,"
                + " leader.notifications.dropped counts every one", n, method.description, method.channel,
                settings.queueSize(), overflow, DropLog.INTERVAL_MILLIS / 1000));
        this.timeouts = new DropLog(context, n -> String.format("Abandoned %d call(s) of %s on channel '%s' still running"
                + " after handler-timeout %s: the next notifications run; an abandoned call is not interrupted and may"
                + " still be running", n, method.description, method.channel, settings.handlerTimeout().orElseThrow()));
        metrics.mailbox(method.election, method.channel, method.description, mailbox::depth);
    }

    NotificationMethod method() {
        return method;
    }

    /** A notification for this method, while this instance leads: it runs now if it may, or waits. */
    void offer(String payload) {
        if (running < limit) {
            start(payload);
        } else if (mailbox.offer(payload)) {
            metrics.dropped(method.election, method.channel, method.description, DropReason.OVERFLOW, 1);
            overflows.dropped(1);
        }
    }

    /** Leadership has ended: what waits never runs, and calls still running hold no place in the next term. */
    void endTerm() {
        discardWaiting();
        term++;
        running = 0;
    }

    private void discardWaiting() {
        int dropped = mailbox.clear();
        if (dropped > 0) {
            LOG.warnf("Dropped %d queued notification(s) for %s: this instance no longer leads", dropped,
                    method.description);
            metrics.dropped(method.election, method.channel, method.description, DropReason.NOT_LEADER, dropped);
        }
    }

    private void next() {
        while (running < limit && mailbox.depth() > 0) {
            if (!leading.getAsBoolean()) {
                discardWaiting();
                return;
            }
            start(mailbox.poll());
        }
    }

    private void start(String payload) {
        Call started = new Call(term);
        running++;
        inFlight.started();
        long startedAt = System.nanoTime();
        // the payload is read where the method runs, never on the election's event loop
        Future<Object> ended = Future.fromCompletionStage(call.run(payload, started), context);
        ended.onComplete(outcome -> ended(started, outcome, payload, startedAt));
        if (timeoutMillis > 0) {
            ended.timeout(timeoutMillis, TimeUnit.MILLISECONDS).onFailure(failure -> {
                if (!ended.isComplete()) {
                    abandon(started);
                }
            });
        }
    }

    private void abandon(Call late) {
        late.abandoned = true;
        metrics.dropped(method.election, method.channel, method.description, DropReason.TIMEOUT, 1);
        timeouts.dropped(1);
        free(late);
    }

    private void ended(Call ended, AsyncResult<Object> outcome, String payload, long startedAt) {
        inFlight.finished();
        if (ended.abandoned) { // counted when it was abandoned
            LOG.debugf("An abandoned call of %s has completed", method.description);
            return;
        }
        if (outcome.succeeded() && outcome.result() == MethodCall.SKIPPED) {
            metrics.dropped(method.election, method.channel, method.description, DropReason.NOT_LEADER, 1);
        } else {
            metrics.handled(method.election, method.channel, method.description, System.nanoTime() - startedAt,
                    outcome.failed());
        }
        if (outcome.cause() instanceof MethodCall.InvalidPayloadException invalid) {
            LOG.errorf("Notification on channel '%s' not passed to %s: its payload is not a valid %s (%s); payload: %s",
                    method.channel, method.description, method.payloadType, invalid.getCause().getMessage(),
                    abbreviate(payload));
        } else if (outcome.failed()) {
            LOG.errorf(outcome.cause(), "%s failed on a notification on channel '%s'; the next notification is still"
                    + " handled", method.description, method.channel);
        }
        free(ended);
    }

    /** The call's place is free for the next notification, unless it belongs to a term that is over. */
    private void free(Call done) {
        if (done.term == term) {
            running--;
            next();
        }
    }

    private static String abbreviate(String payload) {
        return payload.length() <= 200 ? payload : payload.substring(0, 200) + "...";
    }

    /** One call: whether it is still wanted when it gets its thread. */
    private final class Call implements BooleanSupplier {

        final int term;
        volatile boolean abandoned;

        Call(int term) {
            this.term = term;
        }

        @Override
        public boolean getAsBoolean() {
            return !abandoned && term == MethodDelivery.this.term;
        }
    }
}
