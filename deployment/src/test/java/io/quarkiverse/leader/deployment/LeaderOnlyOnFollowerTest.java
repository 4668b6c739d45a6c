package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderOnly;
import io.quarkiverse.leader.NotLeaderException;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * On an instance that does not lead, {@code @LeaderOnly} methods are skipped where their return type allows it, and
 * fail otherwise.
 */
class LeaderOnlyOnFollowerTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Jobs.class)
            .overrideConfigKey("quarkus.leader.enabled", "false");

    @Inject
    Jobs jobs;

    @Test
    void skipsOrFails() {
        jobs.run();
        assertThat(jobs.runs).hasValue(0);
        assertThat(jobs.runAsync().await().indefinitely()).isNull();
        assertThat(jobs.runs).hasValue(0);
        assertThat(jobs.stream().collect().asList().await().atMost(Duration.ofSeconds(5))).isEmpty();
        assertThat(jobs.runs).hasValue(0);
        assertThatThrownBy(jobs::compute).isInstanceOf(NotLeaderException.class)
                .hasMessageContaining(Jobs.class.getName() + "#compute runs on the leader only");
        assertThatThrownBy(jobs::mustRun).isInstanceOf(NotLeaderException.class);
        assertThat(jobs.runs).hasValue(0);
    }

    @ApplicationScoped
    static class Jobs {

        final AtomicInteger runs = new AtomicInteger();

        @LeaderOnly
        void run() {
            runs.incrementAndGet();
        }

        @LeaderOnly
        Uni<Void> runAsync() {
            runs.incrementAndGet();
            return Uni.createFrom().voidItem();
        }

        @LeaderOnly
        Multi<String> stream() {
            runs.incrementAndGet();
            return Multi.createFrom().items("a", "b");
        }

        @LeaderOnly
        String compute() {
            runs.incrementAndGet();
            return "computed";
        }

        @LeaderOnly(skip = false)
        void mustRun() {
            runs.incrementAndGet();
        }
    }
}
