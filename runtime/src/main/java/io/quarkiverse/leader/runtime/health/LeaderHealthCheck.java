package io.quarkiverse.leader.runtime.health;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderElectionImpl;
import io.quarkiverse.leader.runtime.LeaderElections;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;

/**
 * Readiness: UP whether or not this instance leads, so that a rolling update never waits for leadership; DOWN only
 * while an election has no session to PostgreSQL, which includes the whole of shutdown. Its data name, for each
 * election, this instance's role, the current leader (read at most once a heartbeat, however often probes come), its
 * term and since when; a named election's keys start with its name ({@code jobs.role}).
 */
@Readiness
@ApplicationScoped
public class LeaderHealthCheck implements AsyncHealthCheck {

    private static final Duration LEADER_QUERY_TIMEOUT = Duration.ofSeconds(2);

    @Inject
    LeaderElections elections;

    @Override
    public Uni<HealthCheckResponse> call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("Leader election").up();
        List<Uni<Void>> checks = new ArrayList<>();
        for (LeaderElectionImpl election : elections.all()) {
            String prefix = LeaderElection.DEFAULT_NAME.equals(election.name()) ? "" : election.name() + ".";
            BiConsumer<String, String> data = (key, value) -> {
                synchronized (response) { // the current leaders are read concurrently
                    response.withData(prefix + key, value);
                }
            };
            data.accept("instance", election.instanceId());
            data.accept("lock", Long.toString(election.lock()));
            String role = election.role();
            data.accept("role", role);
            election.durableBacklog().forEach((channel, count) -> data.accept("durable." + channel + ".backlog",
                    Long.toString(count)));
            if (role.equals("disconnected")) {
                response.down();
            } else if (!role.equals("disabled")) {
                // bounded: a pool saturated by the application must not hang the probe
                checks.add(election.recentLeader()
                        .ifNoItem().after(LEADER_QUERY_TIMEOUT).fail()
                        .invoke(leader -> leader.ifPresentOrElse(l -> {
                            data.accept("leader", l.instanceId());
                            data.accept("term", Long.toString(l.term()));
                            data.accept("since", l.since().toString());
                        }, () -> data.accept("leader", "none")))
                        .onFailure().invoke(e -> data.accept("leader", "unknown: "
                                + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName())))
                        .onFailure().recoverWithNull()
                        .replaceWithVoid());
            }
        }
        if (checks.isEmpty()) {
            return Uni.createFrom().item(response.build());
        }
        return Uni.join().all(checks).andFailFast().map(done -> response.build());
    }
}
