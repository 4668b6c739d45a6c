package io.quarkiverse.leader.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of the test PostgreSQL that holds, on its way to the server, every client message
 * that carries a given text, until the test lets one pass: the test decides what the server looks like at the moment
 * it runs that statement. The client's statements must be sent with their text (no prepared-statement cache).
 */
public final class HoldingProxy {

    private static final String SHARED = "leader.test.holding-proxy";
    /** Bounds a hold the test never releases, so that the application can still stop. */
    private static final long MAX_HOLD_SECONDS = 60;

    private final ServerSocket server;
    private final String target;
    private final byte[] marker;
    private final Semaphore passes;
    private final AtomicInteger held;
    private final AtomicInteger answered;
    private final AtomicBoolean passingAll = new AtomicBoolean();

    private HoldingProxy(String databaseUrl, String marker, Object[] shared) {
        this.target = databaseUrl;
        this.marker = marker.getBytes(StandardCharsets.UTF_8);
        this.server = (ServerSocket) shared[0];
        this.passes = (Semaphore) shared[1];
        this.held = (AtomicInteger) shared[2];
        this.answered = (AtomicInteger) shared[3];
    }

    /**
     * The proxy of this JVM, started on first use. Quarkus tests load this class in more than one class loader: the
     * socket and the counters live in JDK types kept in the system properties, so every copy drives the same proxy.
     */
    public static synchronized HoldingProxy shared(String databaseUrl, String marker) {
        Object[] shared = (Object[]) System.getProperties().get(SHARED);
        boolean starting = shared == null;
        if (starting) {
            try {
                shared = new Object[] { new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), new Semaphore(0),
                        new AtomicInteger(), new AtomicInteger() };
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            System.getProperties().put(SHARED, shared);
        }
        HoldingProxy proxy = new HoldingProxy(databaseUrl, marker, shared);
        if (starting) {
            Sockets.daemon(proxy::accept, "holding-proxy-accept");
        }
        return proxy;
    }

    /** The test database's URL, through this proxy. */
    public String url() {
        URI uri = URI.create(target);
        return uri.getScheme() + "://" + uri.getUserInfo() + "@127.0.0.1:" + server.getLocalPort() + uri.getPath();
    }

    /** How many messages carrying the text have reached the proxy so far, held or since passed. */
    public int held() {
        return held.get();
    }

    /** How many answers of the server to a message that was let pass have reached the client. */
    public int answered() {
        return answered.get();
    }

    /** Lets the oldest held message (or the next one to arrive) pass. */
    public void passOne() {
        passes.release();
    }

    /** Lets every message pass from now on. */
    public void passAll() {
        if (passingAll.compareAndSet(false, true)) { // once: permits beyond Integer.MAX_VALUE are an Error
            passes.release(Integer.MAX_VALUE / 2);
        }
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
                AtomicBoolean passed = new AtomicBoolean();
                Sockets.daemon(() -> up(client, upstream, passed), "holding-proxy-up");
                Sockets.daemon(() -> down(upstream, client, passed), "holding-proxy-down");
            } catch (IOException e) {
                Sockets.closeQuietly(client); // this connection fails; the proxy goes on accepting
            }
        }
    }

    /** Client to server: a message with the text waits for a pass; what follows it on this connection waits with it. */
    private void up(Socket from, Socket to, AtomicBoolean passed) {
        byte[] buffer = new byte[65536];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            int read;
            while ((read = in.read(buffer)) > 0) {
                if (contains(buffer, read, marker)) {
                    held.incrementAndGet();
                    passes.tryAcquire(MAX_HOLD_SECONDS, TimeUnit.SECONDS);
                    passed.set(true); // before it leaves: its answer must find the flag set
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
            Sockets.closeQuietly(from);
        }
    }

    private void down(Socket from, Socket to, AtomicBoolean passed) {
        byte[] buffer = new byte[65536];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            int read;
            while ((read = in.read(buffer)) > 0) {
                out.write(buffer, 0, read);
                out.flush();
                if (passed.compareAndSet(true, false)) {
                    answered.incrementAndGet(); // once the answer is with the client
                }
            }
        } catch (IOException e) {
            // one side closed: so does the other
        } finally {
            Sockets.closeQuietly(to);
            Sockets.closeQuietly(from);
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
