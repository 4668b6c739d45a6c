package io.quarkiverse.leader.runtime;

import org.jboss.logging.Logger;

import io.quarkus.arc.Arc;
import io.quarkus.arc.InstanceHandle;
import io.quarkus.runtime.shutdown.ShutdownListener;

/**
 * Hands leadership over as the first step of the application's shutdown, before the platform stops anything else.
 */
public class LeaderShutdownListener implements ShutdownListener {

    private static final Logger LOG = Logger.getLogger(LeaderShutdownListener.class);

    @Override
    public void preShutdown(ShutdownNotification notification) {
        InstanceHandle<LeaderElectionImpl> election = Arc.container().instance(LeaderElectionImpl.class);
        if (!election.isAvailable()) {
            notification.done();
            return;
        }
        try {
            election.get().leave().onComplete(ar -> {
                if (ar.failed()) {
                    LOG.warnf("Leaving the election failed (%s); the session ends with the process", ar.cause());
                }
                notification.done();
            });
        } catch (RuntimeException e) {
            LOG.warnf("Leaving the election failed (%s); the session ends with the process", e);
            notification.done();
        }
    }
}
