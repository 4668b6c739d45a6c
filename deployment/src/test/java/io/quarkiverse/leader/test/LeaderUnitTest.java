package io.quarkiverse.leader.test;

import io.quarkus.test.QuarkusUnitTest;

/**
 * A {@link QuarkusUnitTest} wired to the test PostgreSQL, on a lock of its own.
 */
public final class LeaderUnitTest {

    private LeaderUnitTest() {
    }

    /** An application of the given classes, plus the test's helpers. */
    public static QuarkusUnitTest create(Class<?>... classes) {
        return on(TestPostgres.url(), classes);
    }

    /** As {@link #create(Class...)}, on the datasource URL (or URLs, comma-separated) {@code url}. */
    public static QuarkusUnitTest on(String url, Class<?>... classes) {
        return new QuarkusUnitTest()
                .withApplicationRoot(jar -> jar.addClasses(classes).addClasses(LeaderUnitTest.class, TestPostgres.class))
                .overrideConfigKey("quarkus.datasource.db-kind", "postgresql")
                .overrideConfigKey("quarkus.datasource.devservices.enabled", "false")
                .overrideConfigKey("quarkus.http.test-port", "0") // test runs side by side must not collide
                .overrideConfigKey("quarkus.datasource.reactive.url", url)
                .overrideConfigKey("quarkus.leader.lock", Long.toString(TestPostgres.uniqueLock()));
    }
}
