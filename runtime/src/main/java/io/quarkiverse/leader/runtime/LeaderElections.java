package io.quarkiverse.leader.runtime;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Every election of this instance, the default one and the named ones: started with the application, left on
 * shutdown.
 */
@Singleton
public class LeaderElections {

    private static final Logger LOG = Logger.getLogger(LeaderElections.class);

    private final LeaderConfig config;
    private final Map<String, LeaderElectionImpl> elections = new LinkedHashMap<>();
    private final ElectionLoop loop = new ElectionLoop();
    private final Vertx vertx;
    private final ObjectMapper mapper;
    private final NotificationMethods methods;
    private final Event<LeadershipChanged> events;
    private final LeaderMetrics metrics;
    private Future<Void> left;

    @Inject
    LeaderElections(LeaderConfig config, ElectionNames names, Vertx vertx, ObjectMapper mapper,
            NotificationMethods methods, Event<LeadershipChanged> events, Instance<LeaderMetrics> metrics,
            Config mpConfig) {
        this.config = config;
        this.vertx = vertx;
        this.mapper = mapper;
        this.methods = methods;
        this.events = events;
        this.metrics = metrics.isResolvable() ? metrics.get() : LeaderMetrics.NONE;
        // a named election is this same instance: it shares the default election's id unless it sets its own
        String defaultInstanceId = electionConfig(LeaderElection.DEFAULT_NAME).instanceId()
                .orElseGet(ElectionSettings::defaultInstanceId);
        for (String name : names.names()) {
            ElectionConfig election = electionConfig(name);
            long lock = election.lock().orElseGet(() -> ElectionSettings.defaultLock(mpConfig, name));
            // its own durable channels only: a plain channel of another election may have the same name
            elections.put(name, new LeaderElectionImpl(name, election, election.instanceId().orElse(defaultInstanceId),
                    lock, mapper, methods.forElection(name)));
        }
    }

    void start(@Observes @Priority(Integer.MAX_VALUE) StartupEvent event, Config mpConfig) {
        rejectElectionsTheBuildDidNotKnow(mpConfig);
        SharedLocks locks = new SharedLocks();
        Map<String, DatasourceConnectOptions> datasources = new HashMap<>();
        List<String> deliveryProblems = new ArrayList<>();
        for (LeaderElectionImpl election : elections.values()) {
            ElectionConfig config = electionConfig(election.name());
            ElectionSettings.validate(election.name(), config);
            deliveryProblems.addAll(DeliverySettings.problems(election.name(), config.delivery(),
                    methods.forElection(election.name()).allChannels())); // max-concurrency also caps durable calls
            String onWakeup = methods.forElection(election.name()).plainChannels().get(config.durable().wakeupChannel());
            if (onWakeup != null && !methods.forElection(election.name()).durable().isEmpty()) {
                // the leader takes its notifications for wake-ups: the method would get none
                deliveryProblems.add(onWakeup + " listens on channel '" + config.durable().wakeupChannel() + "', which is "
                        + ElectionSettings.property(election.name(), "durable.wakeup-channel") + ", the wake-up channel of"
                        + " durable messages; give the method another channel, or the wake-ups another name");
            }
            if (!election.enabled()) {
                continue;
            }
            // read once per election at start-up: the datasource's run-time configuration does not change after it
            DatasourceConnectOptions datasource = DatasourceConnectOptions.of(ElectionSettings.datasourceName(config),
                    mpConfig);
            datasources.put(election.name(), datasource);
            locks.add(election, config, datasource);
        }
        if (!deliveryProblems.isEmpty()) { // every election's at once: they are often set together
            throw new ConfigurationException(String.join("\n", deliveryProblems));
        }
        try {
            for (LeaderElectionImpl election : elections.values()) {
                election.start(datasources.get(election.name()), loop, vertx, mapper,
                        methods.forElection(election.name()), events, metrics);
            }
        } catch (RuntimeException e) {
            leave(); // an election started before the one that failed must not keep its session (dev mode goes on)
            throw e;
        }
    }

    /**
     * Fails start-up on an election that the run-time configuration has and the build did not: its beans, handlers
     * and checks are made at build time, so it would otherwise be silently left out.
     */
    private void rejectElectionsTheBuildDidNotKnow(Config mpConfig) {
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(config.elections().keySet())) {
            if (elections.containsKey(name)) {
                continue;
            }
            List<String> properties = ElectionProperties.of(name, mpConfig.getPropertyNames());
            if (properties.isEmpty()) {
                continue; // the health switch, quarkus.leader.health.enabled, is not an election "health"
            }
            String seen = properties.get(0) + " from " + mpConfig.getConfigValue(properties.get(0)).getSourceName();
            if (ElectionProperties.RESERVED.contains(name)) {
                problems.add("quarkus.leader.\"" + name + "\".* cannot declare an election (" + seen + "): '" + name
                        + "' is a group of the default election's settings; choose another name");
            } else {
                problems.add("The election '" + name + "' is in the run-time configuration (" + seen + ") but the"
                        + " application was built without it: named elections are fixed at build time. To declare it,"
                        + " set any quarkus.leader.\"" + name + "\".* property in the configuration the build reads"
                        + " (application.properties, or a system property or environment variable of the build), e.g."
                        + " quarkus.leader.\"" + name + "\".enabled=true, and build again; the elections of this build"
                        + " are " + elections.keySet());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(String.join("\n", problems));
        }
    }

    /** The election of that name; the build made sure every name used in the application exists. */
    public LeaderElectionImpl election(String name) {
        LeaderElectionImpl election = elections.get(name);
        if (election == null) {
            throw new IllegalArgumentException("No election named '" + name + "'; the elections are " + elections.keySet());
        }
        return election;
    }

    /** The default election first, then the named ones in name order. */
    public Collection<LeaderElectionImpl> all() {
        return elections.values();
    }

    /**
     * Leaves every election at once: called at the very start of the application's shutdown (see
     * {@link LeaderShutdownListener}). Safe to call more than once.
     */
    synchronized Future<Void> leave() {
        if (left == null) {
            List<Future<Void>> departures = new ArrayList<>(elections.size());
            for (LeaderElectionImpl election : elections.values()) {
                departures.add(election.leave()); // a plain loop: no stream classes to load on the handover path
            }
            // the loop closes once its thread is free; nothing waits for that, its threads are daemons
            left = Future.join(departures).<Void> mapEmpty().otherwiseEmpty().onComplete(ar -> loop.close());
        }
        return left;
    }

    // a fallback for shutdowns that skip the shutdown listeners; normally every election is gone by now
    void stop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) {
        long timeout = elections.values().stream().mapToLong(e -> e.leaveTimeout().toMillis()).max().orElse(0);
        try {
            leave().toCompletionStage().toCompletableFuture().get(timeout + 1_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warnf("Could not leave the elections cleanly (%s); their sessions end with the process", e);
        }
    }

    private ElectionConfig electionConfig(String name) {
        return config.elections().get(name);
    }
}
