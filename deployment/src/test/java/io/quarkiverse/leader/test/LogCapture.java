package io.quarkiverse.leader.test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.jboss.logmanager.ExtLogRecord;

/**
 * The messages one logger category writes at WARN or above while it is open, readable during the test (a
 * {@code QuarkusUnitTest} hands its log records over only once the application has stopped).
 */
public final class LogCapture extends Handler implements AutoCloseable {

    private final Logger logger;
    private final List<String> messages = new CopyOnWriteArrayList<>();

    private LogCapture(String category) {
        this.logger = Logger.getLogger(category);
        setLevel(Level.WARNING);
        logger.addHandler(this);
    }

    /** Starts capturing the warnings of {@code category}. */
    public static LogCapture warnings(String category) {
        return new LogCapture(category);
    }

    public List<String> messages() {
        return messages;
    }

    @Override
    public void publish(LogRecord record) {
        if (isLoggable(record)) {
            messages.add(record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage());
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
