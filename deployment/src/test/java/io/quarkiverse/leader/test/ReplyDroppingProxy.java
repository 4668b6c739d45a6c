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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

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
    private final AtomicReference<CountDownLatch> hold;

    @SuppressWarnings("unchecked")
    private ReplyDroppingProxy(String databaseUrl, Object[] shared) {
        this.target = databaseUrl;
        this.server = (ServerSocket) shared[0];
        this.armed = (AtomicBoolean) shared[1];
        this.dropped = (AtomicInteger) shared[2];
        this.hold = (AtomicReference<CountDownLatch>) shared[3];
    }

    /**
     * The proxy of this JVM to {@code databaseUrl}, started on first use. Quarkus tests load this class in more than
     * one class loader: the socket and the switches live in JDK types kept in the system properties, so every copy
     * drives the same proxy.
     */
    public static synchronized ReplyDroppingProxy shared(String databaseUrl) {
        String key = SHARED + "." + databaseUrl;
        Object[] shared = (Object[]) System.getProperties().get(key);
        boolean starting = shared == null;
        if (starting) {
            try {
                shared = new Object[] { new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), new AtomicBoolean(),
                        new AtomicInteger(), new AtomicReference<CountDownLatch>() };
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            System.getProperties().put(key, shared);
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

    /**
     * The connection whose answer to COMMIT is lost stays open, the client waiting, until {@link #release()}, or for
     * 30 s at most: the time for the test to fail the server over.
     */
    public void holdTheConnection() {
        hold.set(new CountDownLatch(1));
    }

    /** Closes the connection held since its answer was lost. */
    public void release() {
        CountDownLatch latch = hold.getAndSet(null);
        if (latch != null) {
            latch.countDown();
        }
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
                    CountDownLatch held = hold.get();
                    if (held != null) {
                        held.await(30, TimeUnit.SECONDS);
                    }
                    to.close(); // the client loses its connection; the server has committed by now or soon will
                    return;
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed: so does the other
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
