package io.quarkiverse.leader.runtime;

import java.util.Optional;

import io.quarkus.arc.Arc;
import io.quarkus.reactive.datasource.ReactiveDataSource;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

/**
 * The pool of the election's reactive datasource, the bean Quarkus produces for it, looked up on first use: sends and
 * fenced transactions go through it, the election's own session never does.
 */
final class DatasourcePool {

    private final Optional<String> datasource;
    private volatile io.vertx.mutiny.sqlclient.Pool pool;

    DatasourcePool(Optional<String> datasource) {
        this.datasource = datasource;
    }

    io.vertx.mutiny.sqlclient.Pool mutiny() {
        io.vertx.mutiny.sqlclient.Pool current = pool;
        if (current == null) {
            current = datasource
                    .map(ds -> Arc.container().select(io.vertx.mutiny.sqlclient.Pool.class,
                            new ReactiveDataSource.ReactiveDataSourceLiteral(ds)))
                    .orElseGet(() -> Arc.container().select(io.vertx.mutiny.sqlclient.Pool.class))
                    .get();
            pool = current;
        }
        return current;
    }

    Pool vertx() {
        return mutiny().getDelegate();
    }

    /** A context of the application's Vert.x, the pool's: the current one, or one for this thread. */
    Context context() {
        return Arc.container().select(Vertx.class).get().getOrCreateContext();
    }
}
