package io.quarkiverse.leader;

import java.time.Instant;
import java.util.Objects;

/**
 * The CDI event fired, to synchronous and asynchronous observers, each time this instance becomes leader or stops being
 * leader. An observer that throws is logged and does not affect the election. It serialises to JSON with all its
 * fields ({@code election}, {@code leader}, {@code instanceId}, {@code lock}, {@code term}, {@code timestamp}).
 *
 * @param election the name of the election: {@value LeaderElection#DEFAULT_NAME} or a named election's name. The event
 *        is also fired with the qualifier {@code @Election(name)}, for observers of one election only.
 * @param leader {@code true} if this instance has just become leader, {@code false} if it has just stopped being leader
 * @param instanceId the id of this instance, as configured by {@code quarkus.leader.instance-id}
 * @param lock the advisory lock key of the election
 * @param term the term that has begun (when {@link #isLeader()}) or ended: every acquisition of the lock begins a new
 *        term, one more than the last one of this lock across all instances and PostgreSQL restarts
 * @param timestamp when the change took effect. For a leader whose lease ran out unconfirmed (a paused process, a lost
 *        network), the moment the lease ran out: {@link LeaderElection#isLeader()} was already {@code false} from then
 *        on, though the event can only be fired once the process runs again.
 */
public record LeadershipChanged(String election, boolean leader, String instanceId, long lock, long term,
        Instant timestamp) {

    public LeadershipChanged {
        Objects.requireNonNull(election, "election");
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(timestamp, "timestamp");
    }

    /**
     * @return {@code true} if this instance has just become leader, {@code false} if it has just stopped being leader
     */
    public boolean isLeader() {
        return leader;
    }
}
