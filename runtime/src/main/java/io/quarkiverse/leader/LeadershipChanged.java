package io.quarkiverse.leader;

import java.time.Instant;
import java.util.Objects;

/**
 * The CDI event fired, to synchronous and asynchronous observers, each time this instance becomes leader or stops being
 * leader. An observer that throws is logged and does not affect the election.
 */
public final class LeadershipChanged {

    private final String election;
    private final boolean leader;
    private final String instanceId;
    private final long lock;
    private final long term;
    private final Instant timestamp;

    public LeadershipChanged(String election, boolean leader, String instanceId, long lock, long term, Instant timestamp) {
        this.election = Objects.requireNonNull(election);
        this.leader = leader;
        this.instanceId = Objects.requireNonNull(instanceId);
        this.lock = lock;
        this.term = term;
        this.timestamp = Objects.requireNonNull(timestamp);
    }

    /**
     * @return the name of the election: {@value LeaderElection#DEFAULT_NAME} or a named election's name. The event is
     *         also fired with the qualifier {@code @Election(name)}, for observers of one election only.
     */
    public String election() {
        return election;
    }

    /**
     * @return {@code true} if this instance has just become leader, {@code false} if it has just stopped being leader
     */
    public boolean isLeader() {
        return leader;
    }

    /**
     * @return the id of this instance, as configured by {@code quarkus.leader.instance-id}
     */
    public String instanceId() {
        return instanceId;
    }

    /**
     * @return the advisory lock key of the election
     */
    public long lock() {
        return lock;
    }

    /**
     * @return the term that has begun (when {@link #isLeader()}) or ended: every acquisition of the lock begins a new
     *         term, one more than the last one of this lock across all instances and PostgreSQL restarts
     */
    public long term() {
        return term;
    }

    /**
     * @return when the change took effect. For a leader whose lease ran out unconfirmed (a paused process, a lost
     *         network), the moment the lease ran out: {@link LeaderElection#isLeader()} was already {@code false}
     *         from then on, though the event can only be fired once the process runs again.
     */
    public Instant timestamp() {
        return timestamp;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LeadershipChanged other && election.equals(other.election) && leader == other.leader && lock == other.lock && term == other.term
                && instanceId.equals(other.instanceId) && timestamp.equals(other.timestamp);
    }

    @Override
    public int hashCode() {
        return Objects.hash(election, leader, instanceId, lock, term, timestamp);
    }

    @Override
    public String toString() {
        return "LeadershipChanged[election=" + election + ", leader=" + leader + ", instance=" + instanceId + ", lock=" + lock + ", term=" + term + ", at=" + timestamp + "]";
    }
}
