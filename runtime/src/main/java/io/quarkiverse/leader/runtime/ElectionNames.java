package io.quarkiverse.leader.runtime;

import java.util.List;

/**
 * The elections of the application, as the build found them: the default one first, then the named ones.
 */
public record ElectionNames(List<String> names) {
}
