package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.deployment.LeaderBuildTimeConfig.ElectionBuildTimeConfig;
import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;

/**
 * Every run-time setting of an election has its build-time twin, so that setting any of them declares the election.
 */
class ElectionSettingsInStepTest {

    @Test
    void theBuildKnowsEveryRunTimeSetting() {
        assertThat(settings(ElectionBuildTimeConfig.class, "")).isEqualTo(settings(ElectionConfig.class, ""))
                .contains("fencing.table", "delivery.queueSize", "delivery.channels.*.queueSize");
    }

    private static Set<String> settings(Class<?> group, String prefix) {
        Set<String> settings = new TreeSet<>();
        for (Method method : group.getDeclaredMethods()) {
            if (method.getParameterCount() > 0 || Modifier.isStatic(method.getModifiers()) || method.isDefault()) {
                continue;
            }
            String name = prefix + method.getName();
            if (method.getReturnType() == Map.class) { // a map of groups: the settings of each entry
                Type values = ((ParameterizedType) method.getGenericReturnType()).getActualTypeArguments()[1];
                settings.addAll(settings((Class<?>) values, name + ".*."));
            } else if (isGroup(method.getReturnType())) {
                settings.addAll(settings(method.getReturnType(), name + "."));
            } else {
                settings.add(name);
            }
        }
        return settings;
    }

    /** A group of the extension's settings, nested in its config interface or one of its own. */
    private static boolean isGroup(Class<?> type) {
        return type.isInterface() && type.getPackageName().startsWith("io.quarkiverse.leader");
    }
}
