package io.quarkiverse.leader.runtime.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.quarkiverse.leader.runtime.LeaderElectionImpl;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;

/**
 * Readiness: UP whether or not this instance leads, so that a rolling update never waits for leadership; DOWN only
 * while the election has no session to PostgreSQL. Its data name the current leader, its term and since when.
 */
@Readiness
@ApplicationScoped
public class LeaderHealthCheck implements AsyncHealthCheck {

    @Inject
    LeaderElectionImpl election;

    @Override
    public Uni<HealthCheckResponse> call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("Leader election")
                .withData("instance", election.instanceId())
                .withData("lock", Long.toString(election.lock()));
        if (!election.enabled()) {
            return Uni.createFrom().item(response.up().withData("role", "disabled").build());
        }
        if (!election.reachesPostgres()) {
            return Uni.createFrom().item(response.down().withData("role", "disconnected").build());
        }
        response.up().withData("role", election.isLeader() ? "leader" : "follower");
        return election.currentLeader()
                .map(leader -> leader.map(l -> response.withData("leader", l.instanceId())
                        .withData("term", Long.toString(l.term()))
                        .withData("since", l.since().toString()))
                        .orElseGet(() -> response.withData("leader", "none")).build())
                .onFailure().recoverWithItem(e -> response.withData("leader", "unknown: " + e.getMessage()).build());
    }
}
