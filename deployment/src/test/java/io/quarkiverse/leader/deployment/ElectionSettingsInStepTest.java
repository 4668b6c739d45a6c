package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
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
        assertThat(settings(ElectionBuildTimeConfig.class, "")).isEqualTo(settings(ElectionConfig.class, ""));
    }

    private static Set<String> settings(Class<?> group, String prefix) {
        Set<String> settings = new TreeSet<>();
        for (Method method : group.getDeclaredMethods()) {
            if (method.getParameterCount() > 0 || Modifier.isStatic(method.getModifiers()) || method.isDefault()) {
                continue;
            }
            String name = prefix + method.getName();
            if (method.getReturnType().isInterface() && method.getReturnType().getEnclosingClass() == group) {
                settings.addAll(settings(method.getReturnType(), name + "."));
            } else {
                settings.add(name);
            }
        }
        return settings;
    }
}
