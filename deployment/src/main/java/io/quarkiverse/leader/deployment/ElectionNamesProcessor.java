package io.quarkiverse.leader.deployment;

import static io.quarkiverse.leader.deployment.LeaderDotNames.ELECTION;
import static io.quarkiverse.leader.deployment.LeaderDotNames.LEADER_ONLY;
import static io.quarkiverse.leader.deployment.LeaderDotNames.ON_LEADER_NOTIFICATION;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.AnnotationTarget;
import org.jboss.jandex.IndexView;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.ElectionProperties;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.builditem.CombinedIndexBuildItem;
import io.quarkus.runtime.configuration.ConfigurationException;

/**
 * The named elections, declared at build time by the build-time config mapping ({@code quarkus.leader."name".*}); fails
 * the build on any name the code uses that is not declared.
 */
class ElectionNamesProcessor {

    @BuildStep
    ElectionNamesBuildItem electionNames(LeaderBuildTimeConfig config, CombinedIndexBuildItem combinedIndex) {
        Set<String> declared = new TreeSet<>(config.elections().keySet());
        declared.remove(LeaderElection.DEFAULT_NAME);
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(ElectionProperties.RESERVED)) {
            if (!declared.contains(name)) {
                continue;
            }
            // property names, read only to tell the health switch from an election "health" and to name the property
            List<String> properties = ElectionProperties.of(name, ConfigProvider.getConfig().getPropertyNames());
            if (properties.isEmpty()) {
                declared.remove(name);
            } else {
                problems.add("quarkus.leader.\"" + name + "\".* cannot declare an election: '" + name
                        + "' is a group of the default election's settings; choose another name (" + properties.get(0)
                        + ")");
            }
        }
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
        declared.stream().filter(name -> !ElectionProperties.RESERVED.contains(name)).forEach(names::add);
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
