package io.quarkiverse.leader.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * With {@code sample.handled-file} set, every durable message this instance handles is appended to that file as
 * {@code <channel> <payload id> <epoch millis>}, before the method completes: a test can count what each instance
 * handled, duplicates included, after the instance has been killed.
 */
@ApplicationScoped
public class HandledMessages {

    @ConfigProperty(name = "sample.handled-file")
    Optional<Path> file;

    void record(String channel, String id) {
        file.ifPresent(path -> append(path, channel + " " + id + " " + System.currentTimeMillis() + "\n"));
    }

    private static synchronized void append(Path path, String line) {
        try {
            // synced, so that a line is on disk before the message's acknowledgement can be
            Files.writeString(path, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
