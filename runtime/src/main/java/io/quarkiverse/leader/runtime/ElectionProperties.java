package io.quarkiverse.leader.runtime;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which configuration properties set one named election, for the errors about election names: the config mappings
 * find the names, this only says which property gave one.
 */
public final class ElectionProperties {

    /** Groups of the default election's settings: {@code quarkus.leader.fencing.table} is not an election "fencing". */
    public static final Set<String> RESERVED = Set.of("delivery", "durable", "fencing", "health");

    // the build-time health switch: to the elections map it reads as the setting 'enabled' of an election "health"
    private static final String HEALTH_SWITCH = "quarkus.leader.health.enabled";

    private ElectionProperties() {
    }

    /**
     * The properties among {@code propertyNames}, sorted, that set the named election {@code name}:
     * {@code quarkus.leader."name".*} or {@code quarkus.leader.name.*}, but not the health switch
     * {@code quarkus.leader.health.enabled}.
     */
    public static List<String> of(String name, Iterable<String> propertyNames) {
        String quoted = "quarkus.leader.\"" + name + "\".";
        String unquoted = "quarkus.leader." + name + ".";
        Set<String> properties = new TreeSet<>();
        for (String property : propertyNames) {
            if ((property.startsWith(quoted) || property.startsWith(unquoted)) && !property.equals(HEALTH_SWITCH)) {
                properties.add(property);
            }
        }
        return List.copyOf(properties);
    }
}
