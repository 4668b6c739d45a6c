package io.quarkiverse.leader.deployment;

import java.util.concurrent.CompletionStage;

import org.jboss.jandex.DotName;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderOnly;
import io.quarkiverse.leader.OnLeaderNotification;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.SqlConnection;

final class LeaderDotNames {

    static final DotName ON_LEADER_NOTIFICATION = DotName.createSimple(OnLeaderNotification.class);
    static final DotName ELECTION = DotName.createSimple(Election.class);
    static final DotName LEADER_ONLY = DotName.createSimple(LeaderOnly.class);
    static final DotName BLOCKING = DotName.createSimple(Blocking.class);
    static final DotName NON_BLOCKING = DotName.createSimple(NonBlocking.class);
    static final DotName RUN_ON_VIRTUAL_THREAD = DotName.createSimple(RunOnVirtualThread.class);
    static final DotName UNI = DotName.createSimple(Uni.class);
    static final DotName COMPLETION_STAGE = DotName.createSimple(CompletionStage.class);
    static final DotName VOID = DotName.createSimple(Void.class);
    static final DotName STRING = DotName.createSimple(String.class);
    static final DotName JSON_OBJECT = DotName.createSimple(JsonObject.class);
    static final DotName JSON_NODE = DotName.createSimple(JsonNode.class);
    static final DotName SQL_CONNECTION = DotName.createSimple(SqlConnection.class);

    private LeaderDotNames() {
    }
}
