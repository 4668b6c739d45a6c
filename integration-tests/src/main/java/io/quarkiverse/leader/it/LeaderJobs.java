package io.quarkiverse.leader.it;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;

import io.quarkiverse.leader.LeaderOnly;
import io.quarkiverse.leader.SkipUnlessLeader;
import io.quarkus.scheduler.Scheduled;

/**
 * Two scheduled jobs that must run once in the cluster, one per style, and how often each ran on this instance.
 */
@ApplicationScoped
@Path("/jobs")
public class LeaderJobs {

    private final AtomicInteger intercepted = new AtomicInteger();
    private final AtomicInteger skipped = new AtomicInteger();

    @LeaderOnly
    @Scheduled(every = "1s")
    void leaderOnly() {
        intercepted.incrementAndGet();
    }

    @Scheduled(every = "1s", skipExecutionIf = SkipUnlessLeader.class)
    void skipUnlessLeader() {
        skipped.incrementAndGet();
    }

    @GET
    public Map<String, Integer> runs() {
        return Map.of("leaderOnly", intercepted.get(), "skipUnlessLeader", skipped.get());
    }
}
