package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.SessionSetup.describe;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;

/**
 * Opens an election's sessions until one is ready, retrying with capped, jittered backoff: up to
 * {@code reconnect-max-delay} when the connection fails, up to {@code reconnect-rejected-max-delay} when the server
 * rejects the attempt, each cause counted on its own. Confined to the election's context; one run at a time.
 */
final class SessionOpener {

    private static final Logger LOG = Logger.getLogger(SessionOpener.class);

    /** SQLSTATE class 57: the server is starting up, shutting down or in recovery, or an operator ended the session. */
    private static final String OPERATOR_INTERVENTION = "57";

    private final Context context;
    private final ElectionOptions options;
    private final PrimaryHosts hosts;
    private final ScheduledExecutorService delays;
    private Cancellable retrying;
    private Future<BackendSession> opening;
    private boolean cancelled;
    private int failures;
    private long handedOutAt; // System.nanoTime() when the last session was handed out; 0 before the first
    private int shortLivedInARow;
    private boolean pooledReported;

    SessionOpener(Context context, ElectionOptions options, SessionSetup setup) {
        this.context = context;
        this.options = options;
        this.hosts = new PrimaryHosts(options, setup, () -> cancelled);
        // the delays run on an event loop of the election's Vert.x (its own, with one loop), not on the application's
        // worker pool, which a busy application may have filled; each attempt then hops to the context
        this.delays = context.owner().nettyEventLoopGroup();
    }

    /** Starts a run: {@code opened} gets the first session that is ready, on the context, unless the run is cancelled. */
    void open(Consumer<BackendSession> opened) {
        cancelled = false;
        Uni<BackendSession> attempts = Uni.createFrom().<BackendSession> emitter(em -> context.runOnContext(v -> {
            if (cancelled) {
                em.fail(new IllegalStateException("the election is leaving"));
                return;
            }
            opening = hosts.open().onComplete(ar -> {
                if (ar.succeeded()) {
                    em.complete(ar.result());
                } else {
                    em.fail(ar.cause());
                }
            });
        }))
                .onFailure().invoke(this::failed)
                // a count per cause: the first rejection after refusals waits the first delay, not the refusals' last
                .onFailure(SessionOpener::rejected).retry().withExecutor(delays)
                .withBackOff(options.reconnectInitialDelay(), options.reconnectRejectedMaxDelay())
                .withJitter(0.5).indefinitely()
                .onFailure().retry().withExecutor(delays)
                .withBackOff(options.reconnectInitialDelay(), options.reconnectMaxDelay())
                .withJitter(0.5).indefinitely();
        Duration pause = pauseAfterShortLivedSession();
        Uni<BackendSession> run = pause.isZero() ? attempts
                : Uni.createFrom().voidItem().onItem().delayIt().onExecutor(delays).by(pause).chain(() -> attempts);
        retrying = run.subscribe().with(session -> context.runOnContext(v -> {
            if (cancelled) {
                session.conn().close(); // opened after the run was cancelled
                return;
            }
            retrying = null;
            opening = null;
            handedOutAt = System.nanoTime();
            if (failures > 0) {
                LOG.infof("Instance %s reopened its election session after %d failed attempts",
                        options.instanceId(), failures);
                failures = 0;
            }
            opened.accept(session);
        }));
    }

    /** Ends the run; the returned future completes once a session that was opening at that moment is closed again. */
    Future<Void> cancel() {
        cancelled = true;
        if (retrying != null) {
            retrying.cancel();
        }
        Future<BackendSession> open = opening;
        opening = null;
        if (open == null) {
            return Future.succeededFuture();
        }
        open.onSuccess(session -> session.conn().close()); // whenever it is there, however long its authentication takes
        // waits a lease at most: a server that is slow to authenticate must not hold up the departure
        return open.timeout(options.lease().toMillis(), TimeUnit.MILLISECONDS).<Void> mapEmpty().otherwiseEmpty();
    }

    /**
     * Nothing after a session that lived a lease or longer; after one lost sooner (a term that cannot begin, a table the
     * role may not write: a failure that comes back with every session), a delay that doubles with each such session in
     * a row up to {@code reconnect-rejected-max-delay}: every session costs the server a backend.
     */
    private Duration pauseAfterShortLivedSession() {
        boolean shortLived = handedOutAt != 0 && System.nanoTime() - handedOutAt < options.lease().toNanos();
        shortLivedInARow = shortLived ? shortLivedInARow + 1 : 0;
        if (!shortLived) {
            return Duration.ZERO;
        }
        long cap = options.reconnectRejectedMaxDelay().toMillis();
        long delay = Math.min(cap, options.reconnectInitialDelay().toMillis() << Math.min(20, shortLivedInARow - 1));
        long jittered = delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1); // as Mutiny's 0.5 jitter
        LOG.debugf("Instance %s: its session was lost within a lease of opening, %d time(s) in a row; the next opens in"
                + " %d ms", options.instanceId(), shortLivedInARow, jittered);
        return Duration.ofMillis(jittered);
    }

    /**
     * Whether the server itself turned the attempt down with an error (too many connections, a failed authentication,
     * a database that does not exist, a missing privilege) or a TLS handshake failed (a certificate that is not
     * trusted, or not for this host): it started a backend process for it, and will most likely say the same again
     * until someone changes a setting or a certificate; so will a missing term table, and a pooler that does not keep
     * sessions. A server that is starting up, shutting down or in recovery (class 57) will soon take sessions, and a
     * standby (found by the election's own check, not a server error) may be promoted at any moment: those, like a
     * refused, reset or timed-out connection, are not rejections. A walk of several hosts was rejected when each of
     * them rejected it: a standby among them may be promoted at any moment.
     */
    private static boolean rejected(Throwable failure) {
        if (failure instanceof PrimaryHosts.NoPrimary none) {
            return none.all(SessionOpener::rejected);
        }
        return failure instanceof SessionSetup.MissingTermTable || failure instanceof PoolerCheck.PooledSession
                || SessionDatasource.tlsFailure(failure)
                || failure instanceof PgException e && e.getSqlState() != null
                        && !e.getSqlState().startsWith(OPERATOR_INTERVENTION);
    }

    private void failed(Throwable failure) {
        if (failure instanceof PoolerCheck.PooledSession && !pooledReported) {
            // a misconfiguration that will not go away: loud once, whatever failed before it
            pooledReported = true;
            failures++;
            LOG.errorf("Instance %s will not lead: %s; retrying with backoff up to %s", options.instanceId(),
                    failure.getMessage(), options.reconnectRejectedMaxDelay());
        } else if (failures++ == 0) {
            String advice = failure instanceof PrimaryHosts.NoPrimary none ? none.advice()
                    : options.datasource().advice(failure, options.connectOptions());
            LOG.warnf("Instance %s cannot open its election session (%s)%s; retrying with backoff up to %s",
                    options.instanceId(), describe(failure), advice.isEmpty() ? "" : ": " + advice,
                    rejected(failure) ? options.reconnectRejectedMaxDelay() : options.reconnectMaxDelay());
        } else {
            LOG.debugf("Instance %s: election session attempt %d failed: %s", options.instanceId(), failures,
                    describe(failure));
        }
    }
}
