package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import io.quarkiverse.leader.LeaderInfo;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * Who leads an election, as PostgreSQL sees it: the session that holds the lock in this database, and the term it
 * began. Readiness reads a view at most a heartbeat old, so that probes do not query {@code pg_locks} each time.
 */
final class LeaderDirectory {

    private record View(Optional<LeaderInfo> leader, long readAt) {
    }

    private final String election;
    private final long lock;
    private final TermTable terms;
    private final DatasourcePool pool;
    private final long maxAgeNanos;
    private final Duration readTimeout;
    private View view;
    private Uni<Optional<LeaderInfo>> reading;

    LeaderDirectory(String election, long lock, TermTable terms, DatasourcePool pool, Duration maxAge,
            Duration readTimeout) {
        this.election = election;
        this.lock = lock;
        this.terms = terms;
        this.pool = pool;
        this.maxAgeNanos = maxAge.toNanos();
        this.readTimeout = readTimeout;
    }

    /**
     * The leader now: two queries, one for the lock's holder and one for the term it began, on the primary (a standby
     * shows no advisory locks, and its term may lag).
     */
    Uni<Optional<LeaderInfo>> current() {
        return pool.onPrimary(conn -> DatasourcePool.primaryOnly(conn, Uni.createFrom().completionStage(() -> LockHolder
                .find(conn.getDelegate(), lock)
                .compose(holder -> holder.isEmpty() ? Future.succeededFuture(Optional.<LeaderInfo> empty())
                        : conn.getDelegate().preparedQuery(terms.currentTermSql()).execute(Tuple.of(lock))
                                .map(rows -> leader(rows.iterator().hasNext() ? rows.iterator().next() : null,
                                        holder.get())))
                .toCompletionStage())));
    }

    /** The leader as last read, if that was less than a heartbeat ago; otherwise read once for every caller. */
    synchronized Uni<Optional<LeaderInfo>> recent() {
        View last = view;
        if (last != null && System.nanoTime() - last.readAt() < maxAgeNanos) {
            return Uni.createFrom().item(last.leader());
        }
        if (reading == null) {
            // bounded: a read that never ends would otherwise be shared by every later probe
            reading = current().ifNoItem().after(readTimeout).fail()
                    .onItemOrFailure().invoke((leader, failure) -> read(leader, failure))
                    .memoize().indefinitely();
        }
        return reading;
    }

    private synchronized void read(Optional<LeaderInfo> leader, Throwable failure) {
        reading = null;
        if (failure == null) {
            view = new View(leader, System.nanoTime());
        }
    }

    /**
     * The term row's instance, if it is the lock's holder: a holder that has not begun its term in this session yet (a
     * takeover under way, or the same instance back on a new session) does not lead yet. Of another role's session,
     * without {@code pg_read_all_stats}, only its name can be read, and that decides.
     */
    private Optional<LeaderInfo> leader(Row term, LockHolder holder) {
        if (term == null) {
            return Optional.empty();
        }
        String leader = term.getString("instance_id");
        Instant since = term.getOffsetDateTime("since").toInstant();
        Instant started = holder.backendStart();
        if (ElectionSettings.applicationName(election, leader).equals(holder.applicationName())
                && (started == null || !since.isBefore(started))) {
            return Optional.of(new LeaderInfo(leader, term.getLong("term"), since));
        }
        return Optional.empty();
    }
}
