package io.quarkiverse.leader.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback that holds every new connection for {@code delayMillis} before it passes it on to the test
 * PostgreSQL: a server that is slow to let a session in.
 */
public final class SlowProxy implements AutoCloseable {

    private final ServerSocket server;
    private final URI target;
    private final long delayMillis;
    private final AtomicInteger accepted = new AtomicInteger();

    public SlowProxy(String databaseUrl, long delayMillis) {
        this.target = URI.create(databaseUrl);
        this.delayMillis = delayMillis;
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Sockets.daemon(this::accept, "slow-proxy");
    }

    /** The test database's URL, through this proxy. */
    public String url() {
        return target.getScheme() + "://" + target.getUserInfo() + "@127.0.0.1:" + server.getLocalPort()
                + target.getPath();
    }

    public int accepted() {
        return accepted.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            Sockets.daemon(() -> {
                try {
                    Thread.sleep(delayMillis);
                    Socket upstream = new Socket(target.getHost(), target.getPort());
                    Sockets.daemon(() -> Sockets.pipe(client, upstream), "slow-proxy-up");
                    Sockets.pipe(upstream, client);
                } catch (IOException | InterruptedException e) {
                    Sockets.closeQuietly(client);
                }
            }, "slow-proxy-connect");
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
