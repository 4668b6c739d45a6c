package io.quarkiverse.leader.deployment;

import static io.quarkiverse.leader.deployment.LeaderDotNames.ELECTION;
import static io.quarkiverse.leader.deployment.LeaderDotNames.LEADER_ONLY;
import static io.quarkiverse.leader.deployment.LeaderDotNames.ON_LEADER_NOTIFICATION;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.AnnotationTarget;
import org.jboss.jandex.IndexView;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.builditem.CombinedIndexBuildItem;
import io.quarkus.runtime.configuration.ConfigurationException;

/**
 * Finds the named elections, declared in configuration ({@code quarkus.leader."name".*}), and fails the build on any
 * name the code uses that is not declared.
 */
class ElectionNamesProcessor {

    private static final String PREFIX = "quarkus.leader.";

    /** Groups of the default election's settings: {@code quarkus.leader.fencing.table} is not an election "fencing". */
    static final Set<String> RESERVED = Set.of("fencing", "health");

    @BuildStep
    ElectionNamesBuildItem electionNames(CombinedIndexBuildItem combinedIndex) {
        Set<String> declared = declaredNames(ConfigProvider.getConfig().getPropertyNames());
        List<String> problems = new ArrayList<>();
        declared.stream().filter(RESERVED::contains).forEach(name -> problems.add("quarkus.leader.\"" + name
                + "\".* cannot declare an election: '" + name + "' is a group of the default election's settings;"
                + " choose another name"));
        IndexView index = combinedIndex.getIndex();
        for (AnnotationInstance annotation : index.getAnnotations(ON_LEADER_NOTIFICATION)) {
            check(NotificationMethodsProcessor.electionName(annotation), "@OnLeaderNotification", annotation, declared,
                    problems);
        }
        for (AnnotationInstance annotation : index.getAnnotations(LEADER_ONLY)) {
            check(NotificationMethodsProcessor.electionName(annotation), "@LeaderOnly", annotation, declared, problems);
        }
        for (AnnotationInstance annotation : index.getAnnotations(ELECTION)) {
            check(annotation.value().asString(), "@Election", annotation, declared, problems);
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(String.join("\n", problems));
        }
        List<String> names = new ArrayList<>();
        names.add(LeaderElection.DEFAULT_NAME);
        declared.stream().filter(name -> !RESERVED.contains(name)).forEach(names::add);
        return new ElectionNamesBuildItem(names);
    }

    private static void check(String name, String annotation, AnnotationInstance instance, Set<String> declared,
            List<String> problems) {
        if (!LeaderElection.DEFAULT_NAME.equals(name) && !declared.contains(name)) {
            problems.add(annotation + " names the election '" + name + "', which is not configured: declare it with"
                    + " quarkus.leader.\"" + name + "\".lock (or any other quarkus.leader.\"" + name + "\".* property)"
                    + (declared.isEmpty() ? "; no named election is configured" : "; the configured ones are " + declared)
                    + ": " + where(instance.target()));
        }
    }

    /**
     * The names of the named elections in the configuration the build sees: {@code quarkus.leader."jobs".<setting>} or
     * {@code quarkus.leader.jobs.<setting>}, where {@code <setting>} is one of an election's settings (so that a typo
     * such as {@code quarkus.leader.fencng.table} declares nothing).
     */
    static Set<String> declaredNames(Iterable<String> propertyNames) {
        Set<String> names = new TreeSet<>();
        for (String key : propertyNames) {
            if (!key.startsWith(PREFIX)) {
                continue;
            }
            String rest = key.substring(PREFIX.length());
            String name;
            String setting;
            if (rest.startsWith("\"")) {
                int end = rest.indexOf('"', 1);
                if (end < 2 || !rest.startsWith(".", end + 1)) {
                    continue;
                }
                name = rest.substring(1, end);
                setting = rest.substring(end + 2);
            } else {
                int dot = rest.indexOf('.');
                if (dot < 1 || RESERVED.contains(rest.substring(0, dot))) {
                    continue; // quarkus.leader.health.enabled is the default election's
                }
                name = rest.substring(0, dot);
                setting = rest.substring(dot + 1);
            }
            if (!LeaderElection.DEFAULT_NAME.equals(name) && SETTINGS.contains(setting)) {
                names.add(name);
            }
        }
        return names;
    }

    /** An election's settings, as property names relative to the election: {@code lock}, {@code fencing.table}, ... */
    static final Set<String> SETTINGS = settings(ElectionConfig.class, "");

    private static Set<String> settings(Class<?> group, String prefix) {
        Set<String> settings = new TreeSet<>();
        for (Method method : group.getDeclaredMethods()) {
            if (method.getParameterCount() > 0 || Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            String name = prefix + kebab(method.getName());
            if (method.getReturnType().isInterface() && method.getReturnType().getEnclosingClass() == ElectionConfig.class) {
                settings.addAll(settings(method.getReturnType(), name + "."));
            } else {
                settings.add(name);
            }
        }
        return settings;
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    private static String where(AnnotationTarget target) {
        return switch (target.kind()) {
            case CLASS -> target.asClass().name().toString();
            case FIELD -> target.asField().declaringClass().name() + "#" + target.asField().name();
            case METHOD -> NotificationMethodsProcessor.describe(target.asMethod());
            case METHOD_PARAMETER -> NotificationMethodsProcessor.describe(target.asMethodParameter().method())
                    + " parameter " + target.asMethodParameter().position();
            default -> target.toString();
        };
    }
}
