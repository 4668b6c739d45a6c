package io.quarkiverse.leader.deployment;

import static io.quarkiverse.leader.deployment.LeaderDotNames.BLOCKING;
import static io.quarkiverse.leader.deployment.LeaderDotNames.COMPLETION_STAGE;
import static io.quarkiverse.leader.deployment.LeaderDotNames.JSON_NODE;
import static io.quarkiverse.leader.deployment.LeaderDotNames.JSON_OBJECT;
import static io.quarkiverse.leader.deployment.LeaderDotNames.NON_BLOCKING;
import static io.quarkiverse.leader.deployment.LeaderDotNames.ON_LEADER_NOTIFICATION;
import static io.quarkiverse.leader.deployment.LeaderDotNames.RUN_ON_VIRTUAL_THREAD;
import static io.quarkiverse.leader.deployment.LeaderDotNames.SQL_CONNECTION;
import static io.quarkiverse.leader.deployment.LeaderDotNames.STRING;
import static io.quarkiverse.leader.deployment.LeaderDotNames.UNI;
import static io.quarkiverse.leader.deployment.LeaderDotNames.VOID;

import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.AnnotationTarget;
import org.jboss.jandex.AnnotationValue;
import org.jboss.jandex.IndexView;
import org.jboss.jandex.MethodInfo;
import org.jboss.jandex.Type;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.Channels;
import io.quarkiverse.leader.runtime.NotificationMethod.ExecutionModel;
import io.quarkiverse.leader.runtime.NotificationMethod.PayloadKind;
import io.quarkus.arc.deployment.AutoAddScopeBuildItem;
import io.quarkus.arc.deployment.BeanRegistrationPhaseBuildItem;
import io.quarkus.arc.deployment.BeanRegistrationPhaseBuildItem.BeanConfiguratorBuildItem;
import io.quarkus.arc.deployment.InvokerFactoryBuildItem;
import io.quarkus.arc.deployment.UnremovableBeanBuildItem;
import io.quarkus.arc.deployment.ValidationPhaseBuildItem.ValidationErrorBuildItem;
import io.quarkus.arc.processor.AnnotationStore;
import io.quarkus.arc.processor.BeanInfo;
import io.quarkus.arc.processor.BuildExtension;
import io.quarkus.arc.processor.BuiltinScope;
import io.quarkus.arc.processor.InvokerBuilder;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.execannotations.ExecutionModelAnnotationsAllowedBuildItem;
import io.smallrye.mutiny.Uni;

/**
 * Finds the {@code @OnLeaderNotification} methods, validates them all at once and generates their invokers.
 */
class NotificationMethodsProcessor {

    static final String ALLOWED_PARAMETERS = "none, String, io.vertx.core.json.JsonObject,"
            + " com.fasterxml.jackson.databind.JsonNode, or a class or record read from JSON";

    @BuildStep
    AutoAddScopeBuildItem autoAddScope() {
        return AutoAddScopeBuildItem.builder()
                .anyMethodMatches(m -> m.hasAnnotation(ON_LEADER_NOTIFICATION))
                .defaultScope(BuiltinScope.SINGLETON)
                .reason("Found @OnLeaderNotification methods")
                .build();
    }

    @BuildStep
    UnremovableBeanBuildItem unremovableBeans() {
        return UnremovableBeanBuildItem.beanClassAnnotation(ON_LEADER_NOTIFICATION);
    }

    @BuildStep
    ExecutionModelAnnotationsAllowedBuildItem executionModelAnnotations() {
        return new ExecutionModelAnnotationsAllowedBuildItem(m -> m.hasDeclaredAnnotation(ON_LEADER_NOTIFICATION));
    }

    // the BeanConfiguratorBuildItem producer keeps this step in ArC's registration phase, where invokers can be built
    @BuildStep
    void collectNotificationMethods(BeanRegistrationPhaseBuildItem registrationPhase, InvokerFactoryBuildItem invokerFactory,
            BuildProducer<NotificationMethodBuildItem> notificationMethods,
            BuildProducer<ValidationErrorBuildItem> validationErrors,
            BuildProducer<BeanConfiguratorBuildItem> beanConfigurators) {
        AnnotationStore annotations = registrationPhase.getContext().get(BuildExtension.Key.ANNOTATION_STORE);
        List<Throwable> errors = new ArrayList<>();
        Set<MethodInfo> found = new HashSet<>();
        // "election/channel" -> the methods on it, sorted: for the one-durable-method-per-channel rule
        Map<String, Set<String>> durableByChannel = new TreeMap<>();
        Map<String, Set<String>> plainByChannel = new TreeMap<>();
        for (BeanInfo bean : registrationPhase.getContext().beans().classBeans()) {
            for (MethodInfo method : bean.getTarget().get().asClass().methods()) {
                if (method.isSynthetic()) {
                    continue;
                }
                AnnotationInstance annotation = annotations.getAnnotation(method, ON_LEADER_NOTIFICATION);
                if (annotation == null) {
                    continue;
                }
                found.add(method);
                List<String> problems = validate(method, annotation, annotations);
                if (!problems.isEmpty()) {
                    problems.forEach(p -> errors.add(new IllegalStateException(p)));
                    continue;
                }
                InvokerBuilder invoker = invokerFactory.createInvoker(bean, method).withInstanceLookup();
                if (method.returnType().name().equals(UNI)) {
                    invoker.withReturnValueTransformer(Uni.class, "subscribeAsCompletionStage");
                }
                Type parameter = method.parametersCount() == 0 ? null : method.parameterType(0);
                AnnotationValue ordered = annotation.value("ordered");
                boolean durable = durable(annotation);
                String channelKey = electionName(annotation) + "/" + annotation.value().asString();
                (durable ? durableByChannel : plainByChannel).computeIfAbsent(channelKey, k -> new TreeSet<>())
                        .add(describe(method));
                notificationMethods.produce(new NotificationMethodBuildItem(method, electionName(annotation),
                        annotation.value().asString(),
                        ordered == null || ordered.asBoolean(), payloadKind(parameter),
                        parameter, executionModel(method, annotations), invoker.build(), durable,
                        method.parametersCount() == 2));
            }
        }
        // only methods declared on a bean class are called: anywhere else the annotation would silently do nothing
        IndexView index = registrationPhase.getContext().get(BuildExtension.Key.INDEX);
        for (AnnotationInstance annotation : index.getAnnotations(ON_LEADER_NOTIFICATION)) {
            if (annotation.target().kind() == AnnotationTarget.Kind.METHOD && !found.contains(annotation.target().asMethod())) {
                errors.add(new IllegalStateException("@OnLeaderNotification method must be declared on a bean class"
                        + " (not inherited from a superclass, nor on an abstract class or interface): "
                        + describe(annotation.target().asMethod())));
            }
        }
        durableChannelProblems(durableByChannel, plainByChannel).forEach(p -> errors.add(new IllegalStateException(p)));
        if (!errors.isEmpty()) {
            validationErrors.produce(new ValidationErrorBuildItem(errors));
        }
    }

    /**
     * A durable channel has one method per election, which receives each message and acknowledges it; a plain method
     * on it would never be called, as the leader does not LISTEN on a durable channel.
     */
    static List<String> durableChannelProblems(Map<String, Set<String>> durable, Map<String, Set<String>> plain) {
        List<String> problems = new ArrayList<>();
        durable.forEach((key, methods) -> {
            String channel = key.substring(key.indexOf('/') + 1);
            if (methods.size() > 1) {
                problems.add("@OnLeaderNotification(durable = true) channel '" + channel + "' has " + methods.size()
                        + " durable methods in one election, and at most one is allowed (each message is handed to one"
                        + " method and acknowledged by it): " + String.join(" and ", methods));
            }
            if (plain.containsKey(key)) {
                problems.add("@OnLeaderNotification channel '" + channel + "' is durable (" + String.join(", ", methods)
                        + "), so a method without durable = true would never be called on it: "
                        + String.join(" and ", plain.get(key)));
            }
        });
        return problems;
    }

    static boolean durable(AnnotationInstance annotation) {
        AnnotationValue durable = annotation.value("durable");
        return durable != null && durable.asBoolean();
    }

    /** The {@code election} member of an annotation: the default election when it is not given. */
    static String electionName(AnnotationInstance annotation) {
        AnnotationValue election = annotation.value("election");
        return election == null ? LeaderElection.DEFAULT_NAME : election.asString();
    }

    /** Every mistake in one method, each naming the method and what is allowed. */
    static List<String> validate(MethodInfo method, AnnotationInstance annotation, AnnotationStore annotations) {
        List<String> problems = new ArrayList<>();
        String where = describe(method);
        String channel = annotation.value().asString();
        String channelProblem = Channels.problem(channel);
        if (channelProblem != null) {
            problems.add("@OnLeaderNotification channel '" + channel + "' is invalid: " + channelProblem + ": " + where);
        }
        if (Modifier.isPrivate(method.flags())) {
            problems.add("@OnLeaderNotification method must not be private: " + where);
        }
        if (Modifier.isStatic(method.flags())) {
            problems.add("@OnLeaderNotification method must not be static: " + where);
        }
        boolean durable = durable(annotation);
        boolean takesConnection = method.parameterTypes().stream().anyMatch(t -> t.name().equals(SQL_CONNECTION));
        if (takesConnection && !durable) {
            problems.add("@OnLeaderNotification method takes an " + SQL_CONNECTION + " parameter but is not durable: only"
                    + " a method with durable = true gets the connection of a fenced transaction: " + where);
        } else if (durable && method.parametersCount() > 0 && method.parameterType(0).name().equals(SQL_CONNECTION)) {
            problems.add("@OnLeaderNotification(durable = true) method takes the " + SQL_CONNECTION + " as its second"
                    + " parameter, after the payload (" + ALLOWED_PARAMETERS + "): " + where);
        } else if (method.parametersCount() > (takesConnection ? 2 : 1)) {
            problems.add(durable
                    ? "@OnLeaderNotification(durable = true) method must have at most two parameters: the payload ("
                            + ALLOWED_PARAMETERS + ") and optionally an " + SQL_CONNECTION + ": " + where
                    : "@OnLeaderNotification method must have at most one parameter (" + ALLOWED_PARAMETERS + "): "
                            + where);
        } else if (method.parametersCount() >= 1) {
            Type type = method.parameterType(0);
            if (typeName(type) == null) {
                problems.add("@OnLeaderNotification method parameter type " + type + " is not allowed: primitives, type"
                        + " variables and wildcards cannot be read from JSON (allowed: " + ALLOWED_PARAMETERS + "): "
                        + where);
            }
        }
        if (takesConnection && durable && !isUniOfVoid(method.returnType())) {
            problems.add("@OnLeaderNotification(durable = true) method with an " + SQL_CONNECTION + " parameter must"
                    + " return Uni<Void> (its statements commit with the message's acknowledgement when the Uni"
                    + " completes), not " + method.returnType() + ": " + where);
        } else if (!validReturnType(method.returnType())) {
            problems.add("@OnLeaderNotification method must return void, Uni<Void> or CompletionStage<Void>, not "
                    + method.returnType() + ": " + where);
        }
        boolean nonBlocking = annotations.hasAnnotation(method, NON_BLOCKING);
        if (nonBlocking && annotations.hasAnnotation(method, RUN_ON_VIRTUAL_THREAD)) {
            problems.add("@OnLeaderNotification method cannot be both @NonBlocking and @RunOnVirtualThread: " + where);
        }
        if (nonBlocking && annotations.hasAnnotation(method, BLOCKING)) {
            problems.add("@OnLeaderNotification method cannot be both @NonBlocking and @Blocking: " + where);
        }
        return problems;
    }

    private static boolean isUniOfVoid(Type type) {
        return type.name().equals(UNI) && type.kind() == Type.Kind.PARAMETERIZED_TYPE
                && type.asParameterizedType().arguments().get(0).name().equals(VOID);
    }

    private static boolean validReturnType(Type type) {
        if (type.kind() == Type.Kind.VOID) {
            return true;
        }
        return (type.name().equals(UNI) || type.name().equals(COMPLETION_STAGE))
                && type.kind() == Type.Kind.PARAMETERIZED_TYPE
                && type.asParameterizedType().arguments().get(0).name().equals(VOID);
    }

    /**
     * The type as Jackson's {@code TypeFactory} reads it (with {@code []} for arrays), free of the type annotations that
     * {@link Type#toString()} prints; {@code null} for what JSON cannot be read into.
     */
    static String typeName(Type type) {
        return switch (type.kind()) {
            case CLASS -> type.name().toString();
            case ARRAY -> {
                String component = typeName(type.asArrayType().componentType());
                yield component == null ? null : component + "[]";
            }
            case PARAMETERIZED_TYPE -> {
                List<String> arguments = new ArrayList<>();
                for (Type argument : type.asParameterizedType().arguments()) {
                    String name = typeName(argument);
                    if (name == null) {
                        yield null;
                    }
                    arguments.add(name);
                }
                yield type.name() + "<" + String.join(",", arguments) + ">";
            }
            default -> null;
        };
    }

    static PayloadKind payloadKind(Type parameter) {
        if (parameter == null) {
            return PayloadKind.NONE;
        }
        if (parameter.name().equals(STRING)) {
            return PayloadKind.STRING;
        }
        if (parameter.name().equals(JSON_OBJECT)) {
            return PayloadKind.JSON_OBJECT;
        }
        if (parameter.name().equals(JSON_NODE)) {
            return PayloadKind.JSON_NODE;
        }
        return PayloadKind.JACKSON;
    }

    /** The scheduler's rule: virtual thread if asked, event loop for async results or @NonBlocking, else a worker. */
    static ExecutionModel executionModel(MethodInfo method, AnnotationStore annotations) {
        if (annotations.hasAnnotation(method, RUN_ON_VIRTUAL_THREAD)) {
            return ExecutionModel.VIRTUAL_THREAD;
        }
        if (annotations.hasAnnotation(method, BLOCKING)) {
            return ExecutionModel.WORKER;
        }
        if (annotations.hasAnnotation(method, NON_BLOCKING) || method.returnType().kind() != Type.Kind.VOID) {
            return ExecutionModel.EVENT_LOOP;
        }
        return ExecutionModel.WORKER;
    }

    static String describe(MethodInfo method) {
        return method.declaringClass().name() + "#" + method.name() + "("
                + method.parameterTypes().stream().map(NotificationMethodsProcessor::simpleName)
                        .collect(Collectors.joining(", "))
                + ")";
    }

    private static String simpleName(Type type) {
        String name = type.toString();
        return name.startsWith("java.lang.") && name.indexOf('.', 10) < 0 ? name.substring(10) : name;
    }
}
