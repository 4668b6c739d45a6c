package io.quarkiverse.leader.runtime;

import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.Connection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.impl.SqlConnectionInternal;

/** What the Vert.x pool offers no public API for: dropping one of its connections instead of lending it again. */
final class PooledConnections {

    private static final Logger LOG = Logger.getLogger(PooledConnections.class);
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private PooledConnections() {
    }

    /**
     * Closes the physical connection behind {@code conn}, a connection of a Vert.x pool: the pool learns of the close
     * and removes it. Should {@code conn} not be one (another client behind the datasource, another Vert.x), it can
     * only be given back, its transaction in an unknown state: that is logged, once.
     */
    static void discard(SqlConnection conn) {
        SocketConnectionBase socket = socket(conn);
        if (socket != null) {
            socket.socket().close();
            return;
        }
        if (WARNED.compareAndSet(false, true)) {
            LOG.warnf("A fenced transaction's connection whose ROLLBACK failed could not be closed (%s is not a"
                    + " connection of a Vert.x SQL pool): it goes back to the pool in an unknown transaction state,"
                    + " where the pool's next user may find the transaction still open", conn.getClass().getName());
        }
        conn.close();
    }

    /** Whether {@link #discard} can close the physical connection behind {@code conn}. */
    static boolean canDiscard(SqlConnection conn) {
        return socket(conn) != null;
    }

    private static SocketConnectionBase socket(SqlConnection conn) {
        Connection pooled = conn instanceof SqlConnectionInternal internal ? internal.unwrap() : null;
        // the pooled connection wraps the socket's; unwrap() of a connection outside a pool returns itself
        Connection physical = pooled != null ? pooled.unwrap() : null;
        return physical instanceof SocketConnectionBase socket ? socket : null;
    }
}
