package io.quarkiverse.leader;

import java.time.Instant;

/**
 * Who leads an election now, as PostgreSQL sees it.
 *
 * @param instanceId the instance id of the leader
 * @param term the term it leads in
 * @param since when its term began, by the database server's clock
 */
public record LeaderInfo(String instanceId, long term, Instant since) {
}
