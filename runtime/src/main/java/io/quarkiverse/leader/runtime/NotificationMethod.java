package io.quarkiverse.leader.runtime;

import jakarta.enterprise.invoke.Invoker;

import io.quarkus.runtime.RuntimeValue;
import io.quarkus.runtime.annotations.RecordableConstructor;

/**
 * An {@code @OnLeaderNotification} method as the build found it, with the invoker generated for it.
 */
public final class NotificationMethod {

    /** How the payload becomes the method's argument. */
    public enum PayloadKind {
        NONE,
        STRING,
        JSON_OBJECT,
        JSON_NODE,
        /** Any other type, read with Jackson from {@link #payloadType}. */
        JACKSON
    }

    /** Where the method runs. */
    public enum ExecutionModel {
        EVENT_LOOP,
        WORKER,
        VIRTUAL_THREAD
    }

    public final String election;
    public final String channel;
    public final String description;
    public final boolean ordered;
    public final PayloadKind payloadKind;
    public final String payloadType;
    public final ExecutionModel executionModel;
    public final RuntimeValue<Invoker<Object, Object>> invoker;
    /** Messages stored in PostgreSQL and handed over at least once, not plain notifications. */
    public final boolean durable;
    /** The method takes the fenced transaction's connection as its second parameter: its effect happens once. */
    public final boolean fencedConnection;

    @RecordableConstructor
    public NotificationMethod(String election, String channel, String description, boolean ordered, PayloadKind payloadKind,
            String payloadType, ExecutionModel executionModel, RuntimeValue<Invoker<Object, Object>> invoker,
            boolean durable, boolean fencedConnection) {
        this.election = election;
        this.channel = channel;
        this.description = description;
        this.ordered = ordered;
        this.payloadKind = payloadKind;
        this.payloadType = payloadType;
        this.executionModel = executionModel;
        this.invoker = invoker;
        this.durable = durable;
        this.fencedConnection = fencedConnection;
    }
}
