package io.quarkiverse.leader.deployment;

import java.util.List;

import io.quarkiverse.leader.runtime.devui.LeaderJsonRpcService;
import io.quarkus.deployment.IsLocalDevelopment;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.BuildSteps;
import io.quarkus.devui.spi.JsonRPCProvidersBuildItem;
import io.quarkus.devui.spi.page.CardPageBuildItem;
import io.quarkus.devui.spi.page.Page;

/**
 * The Dev UI card: each election with its lock, role, current leader, channels and methods, and a form that sends a
 * test notification; with durable channels, a page of their backlog and dead letters, which it redelivers.
 */
@BuildSteps(onlyIf = IsLocalDevelopment.class)
class LeaderDevUIProcessor {

    @BuildStep
    CardPageBuildItem card(ElectionNamesBuildItem names, List<NotificationMethodBuildItem> methods) {
        CardPageBuildItem card = new CardPageBuildItem();
        card.addPage(Page.webComponentPageBuilder()
                .title("Elections")
                .icon("font-awesome-solid:crown")
                .componentLink("qwc-leader-elections.js")
                .staticLabel(Integer.toString(names.names().size())));
        if (methods.stream().anyMatch(NotificationMethodBuildItem::durable)) {
            card.addPage(Page.webComponentPageBuilder()
                    .title("Dead letters")
                    .icon("font-awesome-solid:envelope-open-text")
                    .tooltip("Durable channels: their backlog and their dead letters")
                    .componentLink("qwc-leader-dead-letters.js")
                    .dynamicLabelJsonRPCMethodName("getDeadLetterCount"));
        }
        return card;
    }

    @BuildStep
    JsonRPCProvidersBuildItem jsonRpcService() {
        return new JsonRPCProvidersBuildItem(LeaderJsonRpcService.class);
    }
}
