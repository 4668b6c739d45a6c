package io.quarkiverse.leader.deployment;

import io.quarkiverse.leader.runtime.health.LeaderHealthCheck;
import io.quarkus.deployment.Capabilities;
import io.quarkus.deployment.Capability;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.smallrye.health.deployment.spi.HealthBuildItem;

/**
 * The election's readiness check, when the application has SmallRye Health.
 */
class LeaderHealthProcessor {

    @BuildStep
    void registerHealthCheck(Capabilities capabilities, LeaderBuildTimeConfig config,
            BuildProducer<HealthBuildItem> healthChecks) {
        if (capabilities.isPresent(Capability.SMALLRYE_HEALTH)) {
            healthChecks.produce(new HealthBuildItem(LeaderHealthCheck.class.getName(), config.health().enabled()));
        }
    }
}
