package io.quarkiverse.leader.runtime;

import java.time.Duration;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;

/**
 * Makes sure the message table and the send function exist before the first message is stored or fetched: checked
 * once per instance, created when missing (unless switched off).
 */
final class MessageStore {

    private static final Logger LOG = Logger.getLogger(MessageStore.class);

    private static final String DUPLICATE_FUNCTION = "42723";

    private final MessageTable table;
    private final DatasourcePool pool;
    private final Duration timeout;
    private volatile boolean ready;
    private volatile boolean carriesMessages; // the function's wake-ups carry small messages, as last checked
    private Uni<Void> checking; // guarded by this

    MessageStore(MessageTable table, DatasourcePool pool, Duration timeout) {
        this.table = table;
        this.pool = pool;
        this.timeout = timeout;
    }

    MessageTable table() {
        return table;
    }

    /**
     * Completes once the table and the function exist. Instances that start together may create them at the same
     * moment, and one of their scripts then fails (a duplicate, or "tuple concurrently updated"): each attempt checks
     * again first, so a retry finds the other's objects.
     */
    synchronized Uni<Void> ready() {
        if (ready) {
            return Uni.createFrom().voidItem();
        }
        if (checking == null) { // one check at a time, shared by every send that comes meanwhile
            checking = Uni.createFrom().deferred(this::checkOrCreate)
                    .onFailure(e -> !(e instanceof MissingStorageException)).retry()
                    .withBackOff(Duration.ofMillis(20), Duration.ofMillis(200)).atMost(4)
                    .ifNoItem().after(timeout).fail()
                    .invoke(() -> ready = true)
                    .onTermination().invoke(this::checked)
                    .memoize().indefinitely();
        }
        return checking;
    }

    private synchronized void checked() {
        checking = null; // a failed check is not remembered: the next send checks again
    }

    /** Whether the table and the function exist, the schema unqualified names go to, and the function's kind. */
    private Uni<Row> check() {
        return pool.read(table.existsSql(), Tuple.of(table.qualifiedName(), table.functionSignature()))
                .map(rows -> rows.iterator().next());
    }

    /** They exist: what the function's wake-ups are, said when it does not match the setting. */
    private Uni<Void> found(Row row) {
        carriesMessages(row.getBoolean(2), row.getString(1));
        return Uni.createFrom().voidItem();
    }

    private Uni<Void> checkOrCreate() {
        return check()
                .chain(row -> {
                    if (row.getBoolean(0)) {
                        return found(row);
                    }
                    String schema = row.getString(1);
                    if (schema == null) {
                        return Uni.createFrom().failure(new MissingStorageException("No schema of the search_path"
                                + " exists to create the durable message table " + table.qualifiedName() + " in; set "
                                + table.createTableProperty().replace("create-table", "schema") + " to one"));
                    }
                    MessageTable resolved = table.in(schema);
                    if (!table.createTable()) {
                        return Uni.createFrom().failure(new MissingStorageException("The durable message table "
                                + table.qualifiedName() + " or the function " + table.functionSignature()
                                + " does not exist and " + table.createTableProperty() + " is false; create them with:\n"
                                + resolved.ddl()));
                    }
                    LOG.infof("Creating the durable message table %s and the function %s", table.qualifiedName(),
                            table.functionSignature());
                    return pool.onPrimary(conn -> conn.query(resolved.ddl()).execute()).replaceWithVoid()
                            .invoke(() -> carriesMessages = table.wakeupPayload())
                            // another instance's script may have won between the check and this one: look again
                            .onFailure(MessageStore::functionTaken).recoverWithUni(e -> check()
                                    .chain(again -> again.getBoolean(0) ? found(again) : Uni.createFrom().failure(e)))
                            .onFailure(MessageStore::functionTaken).transform(e -> new MissingStorageException("The"
                                    + " function " + table.functionSignature() + " exists, but the table "
                                    + table.qualifiedName() + " does not: the function stores into another table (an"
                                    + " application with other durable settings made it); give this one its own"
                                    + " function name with " + table.functionProperty() + ", or create the table with:\n"
                                    + resolved.ddl()));
                });
    }

    /**
     * Whether the leader may hand over the messages that wake-ups carry: {@code wakeup-payload} is true, and the send
     * function, as checked, is one whose wake-ups carry them (one that does not never sends them; a wake-up that says
     * it carries one comes from elsewhere).
     */
    boolean handsOver() {
        return table.wakeupPayload() && carriesMessages;
    }

    /** Says how to replace a function whose wake-ups do not match {@code wakeup-payload}: it is never replaced here. */
    private void carriesMessages(boolean carries, String schema) {
        carriesMessages = carries;
        String replacement = table.in(schema).functionDdl("CREATE OR REPLACE FUNCTION");
        if (table.wakeupPayload() && !carries) {
            LOG.infof("The send function %s wakes the leader with the channel's name alone (an earlier version's, or"
                    + " one made with %s=false), so the leader fetches each message before its method is called. To let"
                    + " a small message ride in its wake-up, a round trip less, replace it with the statement below;"
                    + " instances read the function's body when they start:\n%s",
                    table.functionSignature(), table.wakeupPayloadProperty(), replacement);
        } else if (!table.wakeupPayload() && carries) {
            LOG.warnf("The send function %s puts small messages into its wake-ups, which every session of the database"
                    + " can LISTEN to, while %s is false; the leader fetches every message. To keep the payloads out of"
                    + " the wake-ups, replace it with:\n%s", table.functionSignature(), table.wakeupPayloadProperty(),
                    replacement);
        }
    }

    /** The script failed on CREATE FUNCTION: a function of that name exists, made for another table. */
    private static boolean functionTaken(Throwable failure) {
        return failure instanceof PgException e && DUPLICATE_FUNCTION.equals(e.getSqlState());
    }

    /** The storage is missing and may not be created: the message names what to run. */
    static final class MissingStorageException extends IllegalStateException {
        MissingStorageException(String message) {
            super(message);
        }
    }
}
