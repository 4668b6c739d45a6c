package io.quarkiverse.leader.runtime;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.spi.PgDriver;
import io.vertx.sqlclient.spi.ConnectionFactory;

/**
 * Opens an election's connections (its sessions, and the probes of the pooler check) on its context, with one
 * connection factory of its own, closed when the election has left. {@code PgConnection.connect} makes a factory for each
 * connection and, in the
 * Vert.x 4.5 client, never closes one whose connection failed: its network client is then closed by the garbage
 * collector's finalizer, later, on an event loop that may have shut down by then ("event executor terminated").
 */
final class SessionConnections {

    private final Context context;
    private final ConnectionFactory factory;

    SessionConnections(Context context) {
        this.context = context;
        // the options here are only the factory's defaults: every connection is opened with its own
        this.factory = PgDriver.INSTANCE.createConnectionFactory(context.owner(), new PgConnectOptions());
    }

    /** A connection with {@code options}. */
    Future<PgConnection> connect(PgConnectOptions options) {
        return factory.connect(context, options).map(PgConnection.class::cast);
    }

    /** Closes the factory's network clients, and with them any connection of theirs still open. */
    Future<Void> close() {
        Promise<Void> closed = Promise.promise();
        factory.close(closed);
        return closed.future();
    }
}
