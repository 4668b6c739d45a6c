package io.quarkiverse.leader.runtime;

import static io.quarkiverse.leader.runtime.ElectionSettings.property;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.event.Event;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * One election of this instance, default or named: the {@link LeaderElection} API over the election's session and
 * its collaborators (fenced transactions, the leader directory, sending). Started with the application, left (and the
 * lock handed over) on shutdown by {@link LeaderElections}.
 */
public class LeaderElectionImpl implements LeaderElection {

    private static final Logger LOG = Logger.getLogger(LeaderElectionImpl.class);

    private final String name;
    private final ElectionConfig config;
    private final String instanceId;
    private final long lock;
    private final TermTable terms;
    private final DatasourcePool pool;
    private final FencedTransactions fenced;
    private final LeaderDirectory directory;
    private final NotificationSender sender;
    private final DurableMessages durable;
    private volatile ElectionSession election;
    private Future<Void> left;

    LeaderElectionImpl(String name, ElectionConfig config, String instanceId, long lock, ObjectMapper mapper,
            NotificationMethods methods) {
        this.name = name;
        this.config = config;
        this.instanceId = instanceId;
        this.lock = lock;
        ElectionConfig.Fencing fencing = config.fencing();
        this.terms = new TermTable(fencing.schema(), fencing.table(), fencing.createTable(), fencing.idleTimeout(),
                property(name, "fencing.create-table"));
        this.pool = new DatasourcePool(config.datasource(), config.lease());
        this.fenced = new FencedTransactions(instanceId, lock, terms, config.lease(), pool, () -> election);
        this.directory = new LeaderDirectory(name, lock, terms, pool, config.heartbeat(), config.lease());
        this.sender = new NotificationSender(mapper, pool, config.sendTimeout(), property(name, "send-timeout"),
                methods.durableChannels());
        this.durable = new DurableMessages(name, config, pool, mapper, methods);
    }

    /**
     * Joins the election: the session runs on the elections' own event loop, handlers and observers on the
     * application's Vert.x.
     */
    void start(DatasourceConnectOptions datasource, ElectionLoop loop, Vertx vertx, ObjectMapper mapper,
            NotificationMethods methods, Event<LeadershipChanged> events, LeaderMetrics metrics) {
        if (!methods.durable().isEmpty()) {
            durable.prepareStorage();
        }
        if (!config.enabled()) {
            LOG.infof("Instance %s never leads: %s is disabled (%s=false)", instanceId, describe(),
                    property(name, "enabled"));
            return;
        }
        ElectionOptions options = new ElectionOptions(
                ElectionSettings.connectOptions(name, config, instanceId, datasource), lock, instanceId,
                durable.channels(methods), config.acquire(), config.poll(), config.heartbeat(), config.lease(),
                config.reconnectInitialDelay(), config.reconnectMaxDelay(), config.reconnectRejectedMaxDelay(),
                config.observerTimeout(), terms, datasource.session(), PoolerCheck.fix(name, config.datasource()));
        // an event-loop context of its own, whatever thread starts the application (in dev mode, a worker): there is no
        // public API for one
        Context applicationContext = ((VertxInternal) vertx).createEventLoopContext();
        SessionListener listener = new SessionListener(name, instanceId, lock, new LeadershipEvents(
                events.select(Election.Literal.of(name)), applicationContext, config.observerTimeout()), metrics,
                config.shutdownTimeout());
        HungLeaderEviction eviction = config.evictHungLeader()
                ? new HungLeaderEviction(pool::vertx, options, property(name, "evict-hung-leader"))
                : null;
        ElectionSession started = new ElectionSession(loop.vertx(vertx), options, listener, eviction);
        listener.election = started;
        listener.dispatcher = new NotificationDispatcher(name, methods.plain(), config.delivery(), mapper,
                started.context(), applicationContext, started::isLeader, metrics);
        if (!methods.durable().isEmpty()) {
            listener.durable = durable.delivery(methods, mapper, started, applicationContext, metrics, fenced);
        }
        election = started;
        metrics.joined(name);
        if (eviction != null) {
            LOG.infof("Followers end the session of a leader silent for more than %s (%s)", options.evictionThreshold(),
                    property(name, "evict-hung-leader"));
        }
        if (config.fencing().idleTimeout().compareTo(config.poll()) >= 0) {
            LOG.warnf("%s (%s) is not shorter than %s (%s): a new leader's term may time out waiting for an idle"
                    + " fenced transaction of the previous term, and the takeover is retried",
                    property(name,
                            "fencing.idle-timeout"),
                    config.fencing().idleTimeout(), property(name, "poll"), config.poll());
        }
        LOG.infof("Instance %s joins %s for lock %d (%s acquisition, lease %s, heartbeat %s); a silent leader"
                + " steps down after %s, PostgreSQL releases its lock no earlier than %s after its last contact",
                instanceId, describe(), lock, config.acquire().name().toLowerCase(), config.lease(), config.heartbeat(),
                config.lease(), options.serverReleaseBound());
        started.start();
    }

    /**
     * Leaves the election: called at the very start of the application's shutdown (see {@link LeaderShutdownListener}),
     * so that a follower takes over while the rest of this application stops. Safe to call more than once.
     */
    synchronized Future<Void> leave() {
        if (left == null) {
            ElectionSession current = election;
            election = null;
            // each step of stop() is bounded already; this bounds them all, should one of those bounds be missed
            left = current == null ? Future.succeededFuture()
                    : current.stop().timeout(leaveTimeout().toMillis(), TimeUnit.MILLISECONDS).recover(e -> {
                        LOG.warnf("Instance %s did not leave %s within %s; its session ends with the process", instanceId,
                                describe(), leaveTimeout());
                        return Future.succeededFuture();
                    });
        }
        return left; // a second caller waits for the same departure, handlers drained included
    }

    /**
     * The longest a departure takes: handlers drain ({@code shutdown-timeout}), observers return
     * ({@code observer-timeout}), the unlock and the close are answered (a lease each), and a second to spare.
     */
    Duration leaveTimeout() {
        return config.shutdownTimeout().plus(config.observerTimeout()).plus(config.lease().multipliedBy(2))
                .plusSeconds(1);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean isLeader() {
        ElectionSession current = election;
        return current != null && current.isLeader();
    }

    @Override
    public String instanceId() {
        return instanceId;
    }

    @Override
    public long lock() {
        return lock;
    }

    @Override
    public Uni<Optional<LeaderInfo>> currentLeader() {
        return directory.current();
    }

    /** The current leader as read less than a heartbeat ago, for probes that must not query on every call. */
    public Uni<Optional<LeaderInfo>> recentLeader() {
        return directory.recent();
    }

    @Override
    public OptionalLong term() {
        ElectionSession current = election;
        return current != null && current.isLeader() ? OptionalLong.of(current.term()) : OptionalLong.empty();
    }

    @Override
    public <T> Uni<T> fenced(Function<SqlConnection, Uni<T>> work) {
        return fenced.run(work);
    }

    @Override
    public Uni<Void> notify(String channel, Object payload) {
        return sender.notify(channel, payload);
    }

    @Override
    public void notifyAndAwait(String channel, Object payload) {
        notify(channel, payload).await().indefinitely(); // notify() itself fails after send-timeout
    }

    @Override
    public Uni<Long> send(String channel, Object payload) {
        return durable.sender().send(channel, payload);
    }

    @Override
    public long sendAndAwait(String channel, Object payload) {
        return send(channel, payload).await().indefinitely(); // send() itself fails after send-timeout
    }

    @Override
    public Uni<Long> send(SqlConnection connection, String channel, Object payload) {
        return durable.sender().sendIn(connection, channel, payload);
    }

    @Override
    public Uni<List<DeadLetter>> deadLetters(String channel) {
        return deadLetters(channel, 0);
    }

    @Override
    public Uni<List<DeadLetter>> deadLetters(String channel, long afterId) {
        return durable.deadLetters().of(channel, afterId);
    }

    /** How many dead letters of {@code channel} have ids above {@code afterId}, up to {@code limit}: for the Dev UI. */
    public Uni<Long> deadLetterCount(String channel, long afterId, int limit) {
        return durable.deadLetters().count(channel, afterId, limit);
    }

    @Override
    public Uni<Boolean> redeliver(long id) {
        return durable.deadLetters().redeliver(id);
    }

    /** Each durable channel's backlog while this instance leads, for readiness; empty otherwise. */
    public Map<String, Long> durableBacklog() {
        return durable.backlog();
    }

    /** Whether the election runs and has its session to PostgreSQL; {@code true} when it is disabled. */
    public boolean reachesPostgres() {
        ElectionSession current = election;
        return !config.enabled() || (current != null && current.connected());
    }

    /** This instance's part in the election: {@code leader}, {@code follower}, {@code disconnected}, {@code disabled}. */
    public String role() {
        return !enabled() ? "disabled" : !reachesPostgres() ? "disconnected" : isLeader() ? "leader" : "follower";
    }

    public boolean enabled() {
        return config.enabled();
    }

    String describe() {
        return ElectionSettings.describe(name);
    }
}
