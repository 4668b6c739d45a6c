package io.quarkiverse.leader.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * What the tests' TCP proxies share: daemon threads, quiet closes, and a plain one-way pipe.
 */
public final class Sockets {

    private Sockets() {
    }

    static void daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }

    static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    /** Copies {@code from} to {@code to} until one side closes, then closes both. */
    static void pipe(Socket from, Socket to) {
        byte[] buffer = new byte[65536];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            int read;
            while ((read = in.read(buffer)) > 0) {
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed: so does the other
        } finally {
            closeQuietly(to);
            closeQuietly(from);
        }
    }
}
