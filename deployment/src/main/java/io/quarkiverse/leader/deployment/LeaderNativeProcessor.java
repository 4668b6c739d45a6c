package io.quarkiverse.leader.deployment;

import java.util.List;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.runtime.NotificationMethod.PayloadKind;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.builditem.nativeimage.ReflectiveClassBuildItem;
import io.quarkus.deployment.builditem.nativeimage.ReflectiveHierarchyBuildItem;

/**
 * What a native image needs beyond what ArC generates: payload types that Jackson reads by reflection, and the
 * extension's own value types (leader, leadership change, dead letter), which applications return from REST endpoints
 * as they are.
 */
class LeaderNativeProcessor {

    @BuildStep
    ReflectiveClassBuildItem registerValueTypes() {
        return ReflectiveClassBuildItem.builder(LeaderInfo.class, LeadershipChanged.class, DeadLetter.class)
                .methods().fields()
                .reason(getClass().getName()).build();
    }

    @BuildStep
    void registerPayloadTypes(List<NotificationMethodBuildItem> methods,
            BuildProducer<ReflectiveHierarchyBuildItem> reflectiveHierarchy) {
        for (NotificationMethodBuildItem method : methods) {
            if (method.payloadKind() == PayloadKind.JACKSON) {
                reflectiveHierarchy.produce(ReflectiveHierarchyBuildItem.builder(method.payloadType())
                        .source(method.description())
                        .build());
            }
        }
    }
}
