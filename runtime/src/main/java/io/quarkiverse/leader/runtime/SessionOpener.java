package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.SessionSetup.describe;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnection;

/**
 * Opens an election's sessions until one is ready, retrying with capped, jittered backoff. Confined to the election's
 * context; one run at a time.
 */
final class SessionOpener {

    private static final Logger LOG = Logger.getLogger(SessionOpener.class);

    private final Context context;
    private final ElectionOptions options;
    private final SessionSetup setup;
    private Cancellable retrying;
    private Future<PgConnection> opening;
    private boolean cancelled;
    private int failures;

    SessionOpener(Context context, ElectionOptions options, SessionSetup setup) {
        this.context = context;
        this.options = options;
        this.setup = setup;
    }

    /** Starts a run: {@code opened} gets the first session that is ready, on the context, unless the run is cancelled. */
    void open(Consumer<PgConnection> opened) {
        cancelled = false;
        retrying = Uni.createFrom().<PgConnection> emitter(em -> context.runOnContext(v -> {
            if (cancelled) {
                em.fail(new IllegalStateException("the election is leaving"));
                return;
            }
            opening = setup.open().onComplete(ar -> {
                if (ar.succeeded()) {
                    em.complete(ar.result());
                } else {
                    em.fail(ar.cause());
                }
            });
        }))
                .onFailure().invoke(this::failed)
                .onFailure().retry().withBackOff(options.reconnectInitialDelay(), options.reconnectMaxDelay())
                .withJitter(0.5).indefinitely()
                .subscribe().with(conn -> context.runOnContext(v -> {
                    if (cancelled) {
                        conn.close(); // opened after the run was cancelled
                        return;
                    }
                    retrying = null;
                    opening = null;
                    if (failures > 0) {
                        LOG.infof("Instance %s reopened its election session after %d failed attempts",
                                options.instanceId(), failures);
                        failures = 0;
                    }
                    opened.accept(conn);
                }));
    }

    /** Ends the run; the returned future completes once a session that was opening at that moment is closed again. */
    Future<Void> cancel() {
        cancelled = true;
        if (retrying != null) {
            retrying.cancel();
        }
        Future<PgConnection> open = opening;
        opening = null;
        if (open == null) {
            return Future.succeededFuture();
        }
        open.onSuccess(PgConnection::close); // whenever it is there, however long its authentication takes
        // waits a lease at most: a server that is slow to authenticate must not hold up the departure
        return open.timeout(options.lease().toMillis(), TimeUnit.MILLISECONDS).<Void> mapEmpty().otherwiseEmpty();
    }

    private void failed(Throwable failure) {
        if (failures++ == 0) {
            LOG.warnf("Instance %s cannot open its election session (%s); retrying with backoff up to %s",
                    options.instanceId(), describe(failure), options.reconnectMaxDelay());
        } else {
            LOG.debugf("Election session attempt %d failed: %s", failures, describe(failure));
        }
    }
}
