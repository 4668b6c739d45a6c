package io.quarkiverse.leader.runtime;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;

/**
 * The elections' own Vert.x instance: one event-loop thread that no HTTP request, handler or observer runs on, so that a
 * busy application never holds up a heartbeat. Handlers and observers run on the application's Vert.x instead.
 */
final class ElectionLoop {

    private Vertx vertx;

    /** The instance, created on first use, with the application's transport (a Unix socket URL needs the native one). */
    synchronized Vertx vertx(Vertx application) {
        if (vertx == null) {
            vertx = Vertx.vertx(new VertxOptions()
                    .setPreferNativeTransport(application.isNativeTransportEnabled())
                    .setEventLoopPoolSize(1)
                    .setWorkerPoolSize(1) // nothing blocking runs here; Vert.x needs a pool all the same
                    .setInternalBlockingPoolSize(1)
                    .setUseDaemonThread(true) // never what keeps a JVM from exiting
                    .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
                            .setClassPathResolvingEnabled(false)));
        }
        return vertx;
    }

    /** Closes the instance once every election has left; its thread ends with it. */
    synchronized Future<Void> close() {
        Future<Void> closed = vertx == null ? Future.succeededFuture() : vertx.close();
        vertx = null;
        return closed;
    }
}
