package io.quarkiverse.leader.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of the test PostgreSQL that can lose the server's answer to a {@code COMMIT}: the
 * server receives and commits, the client sees its connection close before it hears so.
 */
public final class ReplyDroppingProxy {

    /** The statement {@code COMMIT}, as the client's message carries it: the text and its NUL. */
    private static final byte[] COMMIT = { 'C', 'O', 'M', 'M', 'I', 'T', 0 };

    private static final String SHARED = "leader.test.reply-dropping-proxy";

    private final ServerSocket server;
    private final String target;
    private final AtomicBoolean armed;
    private final AtomicInteger dropped;

    private ReplyDroppingProxy(String databaseUrl, Object[] shared) {
        this.target = databaseUrl;
        this.server = (ServerSocket) shared[0];
        this.armed = (AtomicBoolean) shared[1];
        this.dropped = (AtomicInteger) shared[2];
    }

    /**
     * The proxy of this JVM, started on first use. Quarkus tests load this class in more than one class loader: the
     * socket and the switches live in JDK types kept in the system properties, so every copy drives the same proxy.
     */
    public static synchronized ReplyDroppingProxy shared(String databaseUrl) {
        Object[] shared = (Object[]) System.getProperties().get(SHARED);
        boolean starting = shared == null;
        if (starting) {
            try {
                shared = new Object[] { new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), new AtomicBoolean(),
                        new AtomicInteger() };
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            System.getProperties().put(SHARED, shared);
        }
        ReplyDroppingProxy proxy = new ReplyDroppingProxy(databaseUrl, shared);
        if (starting) {
            Sockets.daemon(proxy::accept, "proxy-accept");
        }
        return proxy;
    }

    /** The test database's URL, through this proxy. */
    public String url() {
        URI uri = URI.create(target);
        return uri.getScheme() + "://" + uri.getUserInfo() + "@127.0.0.1:" + server.getLocalPort() + uri.getPath();
    }

    /** The answer to the next COMMIT, on whichever connection, never reaches the client. */
    public void dropTheReplyToTheNextCommit() {
        armed.set(true);
    }

    public int droppedReplies() {
        return dropped.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            try {
                URI uri = URI.create(target);
                Socket upstream = new Socket(uri.getHost(), uri.getPort());
                AtomicBoolean losing = new AtomicBoolean();
                Sockets.daemon(() -> pump(client, upstream, losing, true), "proxy-up");
                Sockets.daemon(() -> pump(upstream, client, losing, false), "proxy-down");
            } catch (IOException e) {
                Sockets.closeQuietly(client); // this connection fails; the proxy goes on accepting
            }
        }
    }

    private void pump(Socket from, Socket to, AtomicBoolean losing, boolean towardsServer) {
        byte[] buffer = new byte[65536];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            int read;
            while ((read = in.read(buffer)) > 0) {
                if (towardsServer && contains(buffer, read, COMMIT) && armed.compareAndSet(true, false)) {
                    losing.set(true); // before the COMMIT leaves: its answer must find the flag set
                }
                if (!towardsServer && losing.get()) {
                    dropped.incrementAndGet();
                    to.close(); // the client loses its connection; the server has committed by now or soon will
                    return;
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed: so does the other
        } finally {
            Sockets.closeQuietly(to);
            if (!losing.get()) {
                Sockets.closeQuietly(from);
            }
        }
    }

    private static boolean contains(byte[] buffer, int length, byte[] pattern) {
        for (int i = 0; i + pattern.length <= length; i++) {
            if (Arrays.equals(buffer, i, i + pattern.length, pattern, 0, pattern.length)) {
                return true;
            }
        }
        return false;
    }
}
