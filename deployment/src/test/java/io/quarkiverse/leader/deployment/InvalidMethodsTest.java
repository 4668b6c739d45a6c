package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.concurrent.CompletionStage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.smallrye.mutiny.Uni;

/**
 * Every kind of invalid {@code @OnLeaderNotification} method fails the build, all in one report.
 */
class InvalidMethodsTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Invalid.class, Base.class)
            .assertException(e -> assertThat(e).hasMessageContainingAll(
                    "Found 12 deployment problems",
                    "@OnLeaderNotification method must have at most one parameter",
                    Invalid.class.getName() + "#twoParameters(String, int)",
                    "@OnLeaderNotification method must not be private: " + Invalid.class.getName() + "#privateMethod()",
                    "@OnLeaderNotification method must not be static: " + Invalid.class.getName() + "#staticMethod()",
                    "@OnLeaderNotification method must return void, Uni<Void> or CompletionStage<Void>, not java.lang.String: "
                            + Invalid.class.getName() + "#returnsString(String)",
                    "not io.smallrye.mutiny.Uni<java.lang.String>: " + Invalid.class.getName() + "#returnsUniOfString()",
                    "not java.util.concurrent.CompletionStage<java.lang.Integer>",
                    "parameter type int is not allowed: primitives, type variables and wildcards",
                    Invalid.class.getName() + "#wildcard(java.util.List<? extends java.lang.Number>)",
                    Invalid.class.getName() + "#primitive(int)",
                    "@OnLeaderNotification channel '' is invalid: it is empty",
                    "@OnLeaderNotification channel '" + "x".repeat(64) + "' is invalid: it has 64 bytes",
                    "cannot be both @NonBlocking and @RunOnVirtualThread: " + Invalid.class.getName() + "#both()",
                    "@OnLeaderNotification method must be declared on a bean class (not inherited from a superclass,"
                            + " nor on an abstract class or interface): " + Base.class.getName() + "#inherited()"));

    @Test
    void buildFails() {
        fail("the build should have failed");
    }

    abstract static class Base {

        @OnLeaderNotification("a")
        void inherited() {
        }
    }

    static class Invalid extends Base {

        @OnLeaderNotification("a")
        void twoParameters(String payload, int other) {
        }

        @OnLeaderNotification("a")
        private void privateMethod() {
        }

        @OnLeaderNotification("a")
        static void staticMethod() {
        }

        @OnLeaderNotification("a")
        String returnsString(String payload) {
            return payload;
        }

        @OnLeaderNotification("a")
        Uni<String> returnsUniOfString() {
            return Uni.createFrom().item("x");
        }

        @OnLeaderNotification("a")
        CompletionStage<Integer> returnsStageOfInteger() {
            return null;
        }

        @OnLeaderNotification("a")
        void primitive(int payload) {
        }

        @OnLeaderNotification("a")
        void wildcard(List<? extends Number> payload) {
        }

        @OnLeaderNotification("")
        void emptyChannel() {
        }

        @OnLeaderNotification("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
        void longChannel() {
        }

        @NonBlocking
        @RunOnVirtualThread
        @OnLeaderNotification("a")
        void both() {
        }
    }
}
