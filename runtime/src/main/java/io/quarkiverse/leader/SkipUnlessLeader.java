package io.quarkiverse.leader;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.ScheduledExecution;

/**
 * With {@code quarkus-scheduler}: skips every execution of a scheduled method on the instances that do not lead, so
 * that the job runs once in the cluster:
 *
 * <pre>
 * &#64;Scheduled(every = "10s", skipExecutionIf = SkipUnlessLeader.class)
 * void cleanUp() { ... }
 * </pre>
 */
@Singleton
public class SkipUnlessLeader implements Scheduled.SkipPredicate {

    @Inject
    LeaderElection election;

    @Override
    public boolean test(ScheduledExecution execution) {
        return !election.isLeader();
    }
}
