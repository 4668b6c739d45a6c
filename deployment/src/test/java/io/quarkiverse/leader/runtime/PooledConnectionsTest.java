package io.quarkiverse.leader.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;

/**
 * A fenced transaction's connection whose ROLLBACK failed is closed, not given back: that needs the socket behind a
 * connection of the Vert.x pool, which no public API offers, so this checks that the Vert.x of this Quarkus has it.
 */
class PooledConnectionsTest {

    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        if (vertx != null) {
            TestPostgres.await(vertx.close());
        }
    }

    @Test
    void aConnectionOfTheVertxPoolCanBeDiscarded() {
        Pool pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(TestPostgres.url()))
                .with(new PoolOptions().setMaxSize(1)).using(vertx).build();
        try {
            SqlConnection conn = TestPostgres.await(pool.getConnection());
            int backend = TestPostgres.await(conn.query("SELECT pg_backend_pid()").execute()).iterator().next()
                    .getInteger(0);

            assertThat(PooledConnections.canDiscard(conn)).isTrue();
            PooledConnections.discard(conn);

            // the pool lends a new connection, to another backend, not the one discarded
            SqlConnection next = TestPostgres.await(pool.getConnection());
            assertThat(TestPostgres.await(next.query("SELECT pg_backend_pid()").execute()).iterator().next()
                    .getInteger(0)).isNotEqualTo(backend);
            TestPostgres.await(next.close());
        } finally {
            TestPostgres.await(pool.close());
        }
    }
}
