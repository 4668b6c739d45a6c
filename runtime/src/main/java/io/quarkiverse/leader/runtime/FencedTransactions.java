package io.quarkiverse.leader.runtime;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.FencedException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Fenced transactions: work that commits only in this instance's current term, which PostgreSQL enforces by holding
 * the term row for as long as the transaction runs.
 */
final class FencedTransactions {

    private static final Logger LOG = Logger.getLogger(FencedTransactions.class);

    private final String instanceId;
    private final long lock;
    private final TermTable terms;
    private final Duration lease;
    private final DatasourcePool pool;
    private final Supplier<ElectionSession> election;

    FencedTransactions(String instanceId, long lock, TermTable terms, Duration lease, DatasourcePool pool,
            Supplier<ElectionSession> election) {
        this.instanceId = instanceId;
        this.lock = lock;
        this.terms = terms;
        this.lease = lease;
        this.pool = pool;
        this.election = election;
    }

    <T> Uni<T> run(Function<SqlConnection, Uni<T>> work) {
        // decided on each subscription: a retry, or a Uni subscribed later, sees leadership as it is then
        return Uni.createFrom().deferred(() -> {
            ElectionSession current = election.get();
            if (current == null || !current.isLeader()) {
                return Uni.createFrom().failure(new FencedException("Instance " + instanceId + " does not lead lock "
                        + lock + ": fenced transactions run on the leader only"));
            }
            long term = current.term();
            AtomicBoolean committing = new AtomicBoolean();
            AtomicLong transactionId = new AtomicLong();
            AtomicReference<T> outcome = new AtomicReference<>();
            return pool.mutiny().withTransaction(conn -> conn.query(terms.fenceSql(lock)).execute()
                    .chain(rows -> {
                        Long held = null;
                        for (Row row : rows.next()) {
                            held = row.getLong(0);
                            transactionId.set(row.getLong(1));
                        }
                        if (held == null || held != term) {
                            return Uni.createFrom().<T> failure(new FencedException("Term " + term + " of lock " + lock
                                    + " is over (the term table " + terms.qualifiedName() + " has " + held + ")"));
                        }
                        return work.apply(conn);
                    })
                    // the last word is ours before COMMIT: a lease that ran out meanwhile rolls the transaction back;
                    // a leader that leaves commits until it unlocks, so its draining handlers' work is not lost
                    .call(item -> {
                        if (!current.mayCommit(term)) {
                            return Uni.createFrom().failure(new FencedException("Instance " + instanceId
                                    + " stopped leading lock " + lock + " (term " + term
                                    + ") before its fenced transaction could commit"));
                        }
                        outcome.set(item);
                        committing.set(true);
                        return Uni.createFrom().voidItem();
                    }))
                    .onFailure(e -> !(e instanceof FencedException))
                    .recoverWithUni(e -> afterFailure(e, committing.get(), transactionId.get(), outcome.get(), current, term));
        });
    }

    /**
     * What a fenced transaction that failed comes to. A failure before COMMIT was sent did not commit. A failed COMMIT
     * (the connection lost on the way) is looked up by the transaction's id: if it committed, the work's result stands.
     * One that did not commit in a term that is over by now is a {@link FencedException}; when PostgreSQL cannot tell,
     * the failure is passed on as it is.
     */
    private <T> Uni<T> afterFailure(Throwable failure, boolean committing, long transactionId, T result,
            ElectionSession current, long term) {
        Uni<String> status = committing ? transactionStatus(transactionId) : Uni.createFrom().item("aborted");
        return status.invoke(s -> LOG.debugf("A fenced transaction of lock %d in term %d failed %s (%s): %s", lock, term,
                committing ? "at COMMIT" : "before COMMIT", failure, s)).onItem().transformToUni(s -> switch (s) {
            case "committed" -> Uni.createFrom().item(result);
            case "aborted" -> termEnded(current, term).onItem().transformToUni(ended -> Uni.createFrom().failure(ended
                    ? new FencedException("Term " + term + " of lock " + lock + " ended while a fenced transaction ran,"
                            + " which did not commit: " + failure.getMessage(), failure)
                    : failure));
            default -> Uni.createFrom().failure(failure);
        });
    }

    /**
     * A lookup after a failed fenced transaction. It may first get a pooled connection that died with the transaction
     * (the pool learns of the close just after the failure), so it tries again briefly; a server out of reach must not
     * hold the caller up longer than a lease.
     */
    private <R> Uni<R> lookup(Uni<R> query) {
        return query.onFailure().retry().withBackOff(Duration.ofMillis(20)).atMost(3)
                .ifNoItem().after(lease).fail();
    }

    /** committed, aborted, in progress, or unknown when the server cannot be asked. */
    private Uni<String> transactionStatus(long transactionId) {
        return lookup(pool.mutiny().preparedQuery(terms.transactionStatusSql()).execute(Tuple.of(transactionId))
                .map(rows -> rows.iterator().next().getString(0))
                .onItem().ifNull().continueWith("unknown"))
                .onFailure().recoverWithItem("unknown");
    }

    /** Whether this instance's term is over, as it knows or, failing that, as the term table says. */
    private Uni<Boolean> termEnded(ElectionSession current, long term) {
        if (!current.mayCommit(term)) {
            return Uni.createFrom().item(true);
        }
        // its lease may not have run out yet here, while PostgreSQL has moved on (a paused process that resumes)
        return lookup(pool.mutiny().preparedQuery(terms.currentTermSql()).execute(Tuple.of(lock))
                .map(rows -> {
                    for (Row row : rows) {
                        return row.getLong("term") != term;
                    }
                    return true;
                }))
                .onFailure().invoke(e -> LOG.debugf("Could not read the term of lock %d: %s", lock, e))
                .onFailure().recoverWithItem(() -> !current.mayCommit(term));
    }
}
