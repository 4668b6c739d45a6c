package io.quarkiverse.leader.deployment;

import java.util.List;

import io.quarkus.builder.item.SimpleBuildItem;

/**
 * The elections of the application: the default one first, then the named ones, sorted.
 */
public final class ElectionNamesBuildItem extends SimpleBuildItem {

    private final List<String> names;

    ElectionNamesBuildItem(List<String> names) {
        this.names = List.copyOf(names);
    }

    public List<String> names() {
        return names;
    }
}
