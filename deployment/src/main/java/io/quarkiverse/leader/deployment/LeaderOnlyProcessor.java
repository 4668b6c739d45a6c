package io.quarkiverse.leader.deployment;

import io.quarkiverse.leader.LeaderOnly;
import io.quarkiverse.leader.SkipUnlessLeader;
import io.quarkiverse.leader.runtime.LeaderOnlyInterceptor;
import io.quarkus.arc.deployment.AdditionalBeanBuildItem;
import io.quarkus.deployment.Capabilities;
import io.quarkus.deployment.Capability;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;

/**
 * Leader-only methods: the {@link LeaderOnly} interceptor everywhere, and the scheduler's skip predicate when the
 * application has {@code quarkus-scheduler}.
 */
class LeaderOnlyProcessor {

    @BuildStep
    void registerLeaderOnly(Capabilities capabilities, BuildProducer<AdditionalBeanBuildItem> beans) {
        beans.produce(AdditionalBeanBuildItem.builder().addBeanClasses(LeaderOnly.class, LeaderOnlyInterceptor.class)
                .build());
        if (capabilities.isPresent(Capability.SCHEDULER)) {
            beans.produce(AdditionalBeanBuildItem.unremovableOf(SkipUnlessLeader.class));
        }
    }
}
