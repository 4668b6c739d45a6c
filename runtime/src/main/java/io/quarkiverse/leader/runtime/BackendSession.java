package io.quarkiverse.leader.runtime;

import io.vertx.pgclient.PgConnection;

/**
 * An election's connection, readied, and the server backend it was checked on: every statement the election relies on
 * (the lock, the term and its LISTENs, each heartbeat) must run on that backend.
 */
record BackendSession(PgConnection conn, int backendPid) {

    /**
     * Whether something between the client and the server (a pooler in session mode, a proxy) answered the connection
     * with a key of its own: the election's statements then check that they run on the expected backend.
     */
    boolean proxied() {
        return conn.processId() != backendPid;
    }
}
