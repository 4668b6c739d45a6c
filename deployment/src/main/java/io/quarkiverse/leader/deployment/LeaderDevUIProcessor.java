package io.quarkiverse.leader.deployment;

import io.quarkiverse.leader.runtime.devui.LeaderJsonRpcService;
import io.quarkus.deployment.IsLocalDevelopment;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.BuildSteps;
import io.quarkus.devui.spi.JsonRPCProvidersBuildItem;
import io.quarkus.devui.spi.page.CardPageBuildItem;
import io.quarkus.devui.spi.page.Page;

/**
 * The Dev UI card: each election with its lock, role, current leader, channels and methods, and a form that sends a
 * test notification.
 */
@BuildSteps(onlyIf = IsLocalDevelopment.class)
class LeaderDevUIProcessor {

    @BuildStep
    CardPageBuildItem card(ElectionNamesBuildItem names) {
        CardPageBuildItem card = new CardPageBuildItem();
        card.addPage(Page.webComponentPageBuilder()
                .title("Elections")
                .icon("font-awesome-solid:crown")
                .componentLink("qwc-leader-elections.js")
                .staticLabel(Integer.toString(names.names().size())));
        return card;
    }

    @BuildStep
    JsonRPCProvidersBuildItem jsonRpcService() {
        return new JsonRPCProvidersBuildItem(LeaderJsonRpcService.class);
    }
}
