package io.quarkiverse.leader.deployment;

import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Leader election, build time.
 */
@ConfigMapping(prefix = "quarkus.leader")
@ConfigRoot(phase = ConfigPhase.BUILD_TIME)
public interface LeaderBuildTimeConfig {

    /**
     * The election's health check.
     */
    Health health();

    interface Health {

        /**
         * Whether a readiness check for the election is published when the application has
         * {@code quarkus-smallrye-health}. It is UP whether or not this instance leads and DOWN while the election has
         * no session to PostgreSQL; its data shows the role, the lock and the current leader.
         */
        @WithDefault("true")
        boolean enabled();
    }
}
