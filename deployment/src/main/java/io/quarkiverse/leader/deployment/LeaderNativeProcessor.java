package io.quarkiverse.leader.deployment;

import java.util.List;

import io.quarkiverse.leader.runtime.NotificationMethod.PayloadKind;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.builditem.nativeimage.ReflectiveHierarchyBuildItem;

/**
 * What a native image needs beyond what ArC generates: payload types that Jackson reads by reflection.
 */
class LeaderNativeProcessor {

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
