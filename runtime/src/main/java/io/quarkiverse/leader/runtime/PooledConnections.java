package io.quarkiverse.leader.runtime;

import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.Connection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.impl.SqlConnectionInternal;

/** What the Vert.x pool offers no public API for: dropping one of its connections instead of lending it again. */
final class PooledConnections {

    private PooledConnections() {
    }

    /**
     * Closes the physical connection behind {@code conn}, a connection of a Vert.x pool: the pool learns of the close
     * and removes it. Should {@code conn} not be one (another client behind the datasource), it is given back.
     */
    static void discard(SqlConnection conn) {
        Connection pooled = conn instanceof SqlConnectionInternal internal ? internal.unwrap() : null;
        // the pooled connection wraps the socket's; unwrap() of a connection outside a pool returns itself
        Connection physical = pooled != null ? pooled.unwrap() : null;
        if (physical instanceof SocketConnectionBase socket) {
            socket.socket().close();
        } else {
            conn.close();
        }
    }
}
