package io.quarkiverse.leader.it;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;

/**
 * Sends durable messages every {@value #INTERVAL_MS} ms through every disruption of the chaos suite, on {@code orders}
 * and {@code payments} by turns, one in five in a transaction that rolls back. Each goes to the next instance alive, or,
 * while none is, straight to the send function over SQL. It records what committed: a send whose answer did not come
 * (its target died, paused, or lost PostgreSQL) is uncertain, not committed.
 */
final class DurableSender {

    static final long INTERVAL_MS = 40;

    /** A message and when its send answered. */
    record Sent(String channel, String id, long at) {
    }

    private final List<AppInstance> targets;
    private final String function;
    private final String token;
    private final Map<String, Sent> committed = new ConcurrentHashMap<>();
    private final Map<String, Sent> uncertain = new ConcurrentHashMap<>();
    private final Map<String, Sent> rolledBack = new ConcurrentHashMap<>();
    private final AtomicInteger rolledBackAnswered = new AtomicInteger(); // the rollback endpoint (or SQL) answered
    private final Map<String, Sent> bySql = new ConcurrentHashMap<>();
    private final AtomicInteger sqlSends = new AtomicInteger();
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param targets the instances alive, read at each send (a thread-safe list)
     * @param function the send function of the suite's message table
     * @param token unique to the run, in every id, so that rows of other runs on a shared server are told apart
     */
    DurableSender(List<AppInstance> targets, String function, String token) {
        this.targets = targets;
        this.function = function;
        this.token = token;
        thread = new Thread(this::run, "chaos-durable-sender");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long seq = 0;
        int next = 0;
        PgConnection conn = null;
        while (running) {
            seq++;
            String channel = seq % 2 == 0 ? "payments" : "orders";
            boolean rollback = seq % 5 == 0; // both channels, as seq alternates
            String id = (rollback ? "rb-" : "") + channel.charAt(0) + "-" + token + "-" + seq;
            List<AppInstance> alive = List.copyOf(targets);
            boolean sql = alive.isEmpty();
            try {
                if (sql) {
                    if (conn == null) {
                        conn = TestPostgres.connect();
                    }
                    sendBySql(conn, channel, id, rollback);
                    sqlSends.incrementAndGet();
                } else {
                    AppInstance target = alive.get(next++ % alive.size());
                    if (rollback) {
                        target.sendRolledBack(channel, payload(id));
                    } else {
                        target.send(channel, payload(id));
                    }
                }
                Sent sent = new Sent(channel, id, System.currentTimeMillis());
                if (rollback) {
                    rolledBack.put(id, sent);
                    rolledBackAnswered.incrementAndGet();
                } else {
                    committed.put(id, sent);
                    if (sql) {
                        bySql.put(id, sent);
                    }
                }
            } catch (RuntimeException e) {
                // a rolled-back send never commits, whatever its answer; any other may or may not have
                (rollback ? rolledBack : uncertain).put(id, new Sent(channel, id, System.currentTimeMillis()));
                if (conn != null) {
                    conn.close();
                    conn = null;
                }
            }
            sleep(INTERVAL_MS);
        }
        if (conn != null) {
            conn.close();
        }
    }

    private void sendBySql(PgConnection conn, String channel, String id, boolean rollback) {
        String select = "SELECT " + function + "($1, $2)";
        Tuple args = Tuple.of(channel, payload(id));
        if (rollback) {
            TestPostgres.await(conn.begin().compose(tx -> conn.preparedQuery(select).execute(args)
                    .compose(rows -> tx.rollback())));
        } else {
            TestPostgres.await(conn.preparedQuery(select).execute(args));
        }
    }

    private static String payload(String id) {
        return "{\"id\":\"" + id + "\"}";
    }

    /** Committed messages by id. */
    Map<String, Sent> committed() {
        return committed;
    }

    /** Sends without an answer: they may or may not have committed. */
    Map<String, Sent> uncertain() {
        return uncertain;
    }

    /** Messages stored in transactions that rolled back. */
    Map<String, Sent> rolledBack() {
        return rolledBack;
    }

    /** Rolled-back sends that were answered: stored, then rolled back; the others failed before or on the way. */
    int rolledBackAnswered() {
        return rolledBackAnswered.get();
    }

    /** Committed messages that went over SQL, while no instance was alive. */
    Map<String, Sent> bySql() {
        return bySql;
    }

    int sqlSends() {
        return sqlSends.get();
    }

    void stop() {
        running = false;
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
