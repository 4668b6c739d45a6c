package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.RequestScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Observers of {@code LeadershipChanged} and notification handlers run as Quarkus runs {@code @Scheduled} jobs and
 * {@code @ConsumeEvent} methods: on a duplicated context, with a request context of their own that ends afterwards.
 */
class ObserverContextTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(RequestState.class, Users.class, Probe.class);

    @Inject
    LeaderElection election;

    @Inject
    Users users;

    @Inject
    Vertx vertx;

    @Test
    void payloadsAreReadWhereTheMethodRunsNotOnTheElectionsEventLoop() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        election.notifyAndAwait("decoded", "{\"name\":\"p\"}");
        await().atMost(Duration.ofSeconds(10)).until(() -> users.probes.size() == 1);
        assertThat(Probe.READ_ON).containsExactly(vertx); // the application's Vert.x, not the election's own
    }

    @Test
    void observersAndHandlersHaveARequestContextOfTheirOwn() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
        await().atMost(Duration.ofSeconds(10)).until(() -> users.observed.size() == 1);
        election.notifyAndAwait("requests", "a");
        election.notifyAndAwait("requests", "b");
        await().atMost(Duration.ofSeconds(10)).until(() -> users.handled.size() == 2);

        assertThat(users.observed).allMatch(Use::duplicated);
        assertThat(users.handled).allMatch(Use::duplicated);
        // one request context per call, each ended once the call returned
        assertThat(users.observed.stream().map(Use::requestId).distinct()).hasSize(1);
        assertThat(users.handled.stream().map(Use::requestId).distinct()).hasSize(2)
                .doesNotContain(users.observed.get(0).requestId());
        await().atMost(Duration.ofSeconds(5)).until(() -> RequestState.DESTROYED.get() >= 3);
    }

    record Use(String requestId, boolean duplicated) {
    }

    /** A payload type that records which Vert.x instance its JSON was read on. */
    public record Probe(String name) {

        static final List<Vertx> READ_ON = new CopyOnWriteArrayList<>();

        @JsonCreator
        public Probe(@JsonProperty("name") String name) {
            this.name = name;
            Context context = Vertx.currentContext();
            READ_ON.add(context == null ? null : context.owner());
        }
    }

    @RequestScoped
    static class RequestState {

        static final AtomicInteger DESTROYED = new AtomicInteger();

        private final String id = UUID.randomUUID().toString();

        String id() {
            return id;
        }

        @PreDestroy
        void destroyed() {
            DESTROYED.incrementAndGet();
        }
    }

    @Singleton
    static class Users {

        @Inject
        RequestState request;

        final List<Use> observed = new CopyOnWriteArrayList<>();
        final List<Use> handled = new CopyOnWriteArrayList<>();

        void onChange(@Observes LeadershipChanged change) {
            observed.add(new Use(request.id(), VertxContext.isOnDuplicatedContext()));
        }

        final List<Probe> probes = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("decoded")
        void decoded(Probe probe) {
            probes.add(probe);
        }

        @OnLeaderNotification("requests")
        void handle(String payload) {
            handled.add(new Use(request.id(), VertxContext.isOnDuplicatedContext()));
        }
    }
}
