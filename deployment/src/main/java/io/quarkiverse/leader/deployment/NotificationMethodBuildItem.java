package io.quarkiverse.leader.deployment;

import org.jboss.jandex.MethodInfo;
import org.jboss.jandex.Type;

import io.quarkiverse.leader.runtime.NotificationMethod.ExecutionModel;
import io.quarkiverse.leader.runtime.NotificationMethod.PayloadKind;
import io.quarkus.arc.processor.InvokerInfo;
import io.quarkus.builder.item.MultiBuildItem;

/**
 * A valid {@code @OnLeaderNotification} method, with the invoker generated for it.
 */
public final class NotificationMethodBuildItem extends MultiBuildItem {

    private final MethodInfo method;
    private final String election;
    private final String channel;
    private final boolean ordered;
    private final PayloadKind payloadKind;
    private final Type payloadType;
    private final ExecutionModel executionModel;
    private final InvokerInfo invoker;
    private final boolean durable;
    private final boolean fencedConnection;

    NotificationMethodBuildItem(MethodInfo method, String election, String channel, boolean ordered,
            PayloadKind payloadKind, Type payloadType, ExecutionModel executionModel, InvokerInfo invoker, boolean durable,
            boolean fencedConnection) {
        this.method = method;
        this.election = election;
        this.channel = channel;
        this.ordered = ordered;
        this.payloadKind = payloadKind;
        this.payloadType = payloadType;
        this.executionModel = executionModel;
        this.invoker = invoker;
        this.durable = durable;
        this.fencedConnection = fencedConnection;
    }

    /** Whether its messages are stored and handed over at least once. */
    public boolean durable() {
        return durable;
    }

    /** Whether it takes the fenced transaction's connection as its second parameter. */
    public boolean fencedConnection() {
        return fencedConnection;
    }

    public MethodInfo method() {
        return method;
    }

    /** The election whose leader handles the notifications. */
    public String election() {
        return election;
    }

    public String channel() {
        return channel;
    }

    public boolean ordered() {
        return ordered;
    }

    public PayloadKind payloadKind() {
        return payloadKind;
    }

    /** The parameter's type, or {@code null} for a method without parameter. */
    public Type payloadType() {
        return payloadType;
    }

    public ExecutionModel executionModel() {
        return executionModel;
    }

    public InvokerInfo invoker() {
        return invoker;
    }

    /** {@code com.acme.Jobs#onEvent(String)}, as error messages and logs name the method. */
    public String description() {
        return NotificationMethodsProcessor.describe(method);
    }
}
