package io.quarkiverse.leader.test;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A TCP server on loopback that answers every connection as a PostgreSQL server that is starting up does: it reads the
 * startup message, sends {@code FATAL 57P03 the database system is starting up} and closes the connection.
 */
public final class StartingUpServer implements AutoCloseable {

    private final ServerSocket server;

    public StartingUpServer() {
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Sockets.daemon(this::accept, "starting-up-server");
    }

    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try (Socket client = server.accept()) {
                DataInputStream in = new DataInputStream(client.getInputStream());
                in.readFully(new byte[in.readInt() - 4]); // the startup message: its length counts itself
                client.getOutputStream().write(startingUp());
                client.getOutputStream().flush();
            } catch (IOException e) {
                // closed, or a client that went away
            }
        }
    }

    /** An ErrorResponse: 'E', its length, then fields of a type byte and a NUL-terminated text, then a NUL. */
    private static byte[] startingUp() {
        ByteArrayOutputStream fields = new ByteArrayOutputStream();
        for (String field : new String[] { "SFATAL", "VFATAL", "C57P03", "Mthe database system is starting up" }) {
            fields.writeBytes(field.getBytes(StandardCharsets.US_ASCII));
            fields.write(0);
        }
        fields.write(0);
        int length = fields.size() + 4;
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        message.write('E');
        message.write(length >>> 24);
        message.write(length >>> 16);
        message.write(length >>> 8);
        message.write(length);
        message.writeBytes(fields.toByteArray());
        return message.toByteArray();
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
