package io.quarkiverse.leader.deployment;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import io.quarkiverse.leader.runtime.ElectionListener;
import io.quarkiverse.leader.runtime.ElectionOptions;
import io.quarkiverse.leader.runtime.LeaderConfig.AcquireStrategy;
import io.quarkiverse.leader.runtime.SessionDatasource;
import io.quarkiverse.leader.runtime.TermTable;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.SlowProxy;
import io.quarkiverse.leader.test.Sockets;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.test.QuarkusUnitTest;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Elections built by hand in a test, on the test PostgreSQL, with fast timings and the default term table.
 */
final class TestElections {

    private TestElections() {
    }

    static final TermTable TERMS = new TermTable(Optional.empty(), TermTable.DEFAULT_TABLE, true, Duration.ofSeconds(1),
            "quarkus.leader.fencing.create-table");

    /** The default datasource, with the user and password in the connect options. */
    static final SessionDatasource DEFAULT_DATASOURCE = SessionDatasource
            .withoutProvider(DataSourceUtil.DEFAULT_DATASOURCE_NAME);

    /** An application whose own election is off, for tests that drive election sessions themselves. */
    static QuarkusUnitTest sessionTest(Class<?>... more) {
        List<Class<?>> classes = new ArrayList<>(List.of(TestElections.class, RecordingListener.class, SlowProxy.class,
                Sockets.class));
        classes.addAll(List.of(more));
        return LeaderUnitTest.create(classes.toArray(Class<?>[]::new))
                .overrideConfigKey("quarkus.leader.enabled", "false");
    }

    static ElectionOptions options(String instanceId, long lock, AcquireStrategy acquire, List<String> channels) {
        PgConnectOptions connect = PgConnectOptions.fromUri(TestPostgres.url())
                .addProperty("application_name", "leader:" + instanceId);
        return new ElectionOptions(connect, lock, instanceId, channels, acquire, Duration.ofMillis(200),
                Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofMillis(50), Duration.ofMillis(500),
                Duration.ofSeconds(5),
                Duration.ofSeconds(2), TERMS, DEFAULT_DATASOURCE);
    }

    /**
     * An election on the hosts of {@code urls}, walked in that order, with the timings of
     * {@link #options(String, long, AcquireStrategy, List)}.
     */
    static ElectionOptions options(String instanceId, long lock, List<String> urls) {
        return options(instanceId, lock, urls, DEFAULT_DATASOURCE);
    }

    /** As {@link #options(String, long, List)}, with the user and password that {@code datasource} gives. */
    static ElectionOptions options(String instanceId, long lock, List<String> urls, SessionDatasource datasource) {
        Duration lease = Duration.ofSeconds(2);
        List<PgConnectOptions> hosts = urls.stream().map(url -> PgConnectOptions.fromUri(url)
                .addProperty("application_name", "leader:" + instanceId)
                .setConnectTimeout((int) lease.toMillis()).setReconnectAttempts(0)).toList();
        return new ElectionOptions(hosts, lock, instanceId, List.of(), AcquireStrategy.WAIT, Duration.ofMillis(200),
                Duration.ofMillis(100), lease, Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(5),
                Duration.ofSeconds(2), TERMS, datasource, "connect the election to the server directly");
    }

    /** Records the leadership changes it is told of; its drain completes with {@link #drained}. */
    static class RecordingListener implements ElectionListener {

        final List<Boolean> changes = new CopyOnWriteArrayList<>();
        final List<Long> terms = new CopyOnWriteArrayList<>();
        Future<Void> drained = Future.succeededFuture();

        @Override
        public Future<Void> leadershipChanged(boolean leader, long term, Instant at) {
            changes.add(leader);
            terms.add(term);
            return Future.succeededFuture();
        }

        @Override
        public void notification(String channel, String payload) {
        }

        @Override
        public Future<Void> drain() {
            return drained;
        }
    }
}
