package io.quarkiverse.leader.runtime;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Two elections of one instance on the same lock of the same database would compete with each other: refused on one
 * datasource, warned of on two that look alike.
 */
final class SharedLocks {

    private static final Logger LOG = Logger.getLogger(SharedLocks.class);

    private final Map<List<Object>, String> byDatasource = new HashMap<>();
    private final Map<List<Object>, String> byDatabase = new HashMap<>();

    void add(LeaderElectionImpl election, ElectionConfig config, DatasourceConnectOptions options) {
        // advisory locks are per database: the same key on one datasource always competes with itself
        String datasource = ElectionSettings.datasourceName(config);
        String other = byDatasource.putIfAbsent(List.of(election.lock(), datasource), election.name());
        if (other != null) {
            throw new ConfigurationException("The elections " + describe(other) + " and "
                    + describe(election.name()) + " both run on lock " + election.lock() + " of the same datasource;"
                    + " give them different " + ElectionSettings.property(election.name(), "lock") + " values");
        }
        // two datasources that look alike most likely reach one database, but a pooler that routes by user may
        // send them to two: said, not refused
        PgConnectOptions target = ElectionSettings.connectOptions(election.name(), config, election.instanceId(),
                options).get(0);
        String database = "database " + target.getDatabase() + " at " + target.getHost() + ":" + target.getPort();
        other = byDatabase.putIfAbsent(List.of(election.lock(), database), election.name());
        if (other != null) {
            LOG.warnf("The elections %s and %s both run on lock %d of %s, through other datasources: if these reach"
                    + " the same database they compete with each other; give them different %s values",
                    describe(other), describe(election.name()), election.lock(), database,
                    ElectionSettings.property(election.name(), "lock"));
        }
    }

    private static String describe(String name) {
        return LeaderElection.DEFAULT_NAME.equals(name) ? "default" : "'" + name + "'";
    }
}
