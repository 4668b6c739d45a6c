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
        InstanceHandle<LeaderElections> elections = Arc.container().instance(LeaderElections.class);
        if (!elections.isAvailable()) {
            notification.done();
            return;
        }
        try {
            elections.get().leave().onComplete(ar -> {
                if (ar.failed()) {
                    LOG.warnf("Leaving the elections failed (%s); the session ends with the process", ar.cause());
                }
                notification.done();
            });
        } catch (RuntimeException e) {
            LOG.warnf("Leaving the elections failed (%s); the session ends with the process", e);
            notification.done();
        }
    }
}
