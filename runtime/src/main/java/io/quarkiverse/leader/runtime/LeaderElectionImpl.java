package io.quarkiverse.leader.runtime;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import jakarta.enterprise.event.Event;

import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.FencedException;
import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.runtime.LeaderConfig.ElectionConfig;
import io.quarkus.arc.Arc;
import io.quarkus.reactive.datasource.ReactiveDataSource;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * One election of this instance, default or named: started with the application, stopped (and the lock handed over) on
 * shutdown by {@link LeaderElections}.
 */
public class LeaderElectionImpl implements LeaderElection {

    private static final Logger LOG = Logger.getLogger(LeaderElectionImpl.class);

    private final String name;
    private final ElectionConfig config;
    private final Vertx vertx;
    private final ElectionLoop loop;
    private final ObjectMapper mapper;
    private final NotificationMethods methods;
    private final Event<LeadershipChanged> events;
    private final LeaderMetrics metrics;
    private final String instanceId;
    private final long lock;
    private final TermTable terms;
    private volatile ElectionSession election;
    private volatile HungLeaderEviction eviction;
    private volatile Pool pool;
    private volatile io.vertx.mutiny.sqlclient.Pool mutinyPool;
    private Future<Void> left;

    LeaderElectionImpl(String name, ElectionConfig config, String instanceId, long lock, Vertx vertx, ElectionLoop loop,
            ObjectMapper mapper, NotificationMethods methods, Event<LeadershipChanged> events, LeaderMetrics metrics) {
        this.name = name;
        this.config = config;
        this.vertx = vertx;
        this.loop = loop;
        this.mapper = mapper;
        this.methods = methods;
        this.events = events.select(Election.Literal.of(name));
        this.metrics = metrics;
        this.instanceId = instanceId;
        this.lock = lock;
        ElectionConfig.Fencing fencing = config.fencing();
        this.terms = new TermTable(fencing.schema(), fencing.table(), fencing.createTable(), fencing.idleTimeout(),
                property(name, "fencing.create-table"));
    }

    void start(Config mpConfig) {
        if (!config.enabled()) {
            LOG.infof("Instance %s never leads: %s is disabled (%s=false)", instanceId, describe(),
                    property(name, "enabled"));
            return;
        }
        ElectionOptions options = new ElectionOptions(connectOptions(mpConfig), lock, instanceId, methods.channels(),
                config.acquire(), config.poll(), config.heartbeat(), config.lease(), config.reconnectInitialDelay(),
                config.reconnectMaxDelay(), config.observerTimeout(), terms);
        // handlers and observers run on the application's Vert.x, the session on the elections' own event loop
        Context applicationContext = vertx.getOrCreateContext();
        Listener listener = new Listener(new LeadershipEvents(events, applicationContext));
        ElectionSession started = new ElectionSession(loop.vertx(), options, listener);
        listener.election = started;
        listener.dispatcher = new NotificationDispatcher(name, methods.all(), mapper, started.context(),
                applicationContext, started::isLeader, metrics);
        election = started;
        metrics.joined(name);
        if (config.evictHungLeader()) {
            eviction = new HungLeaderEviction(started.context(), this::pool, options, started::isLeader,
                    property(name, "evict-hung-leader"));
            eviction.start();
            LOG.infof("Followers end the session of a leader silent for more than %s (%s)", options.evictionThreshold(),
                    property(name, "evict-hung-leader"));
        }
        if (config.fencing().idleTimeout().compareTo(config.poll()) >= 0) {
            LOG.warnf("%s (%s) is not shorter than %s (%s): a new leader's term may time out waiting for an idle"
                    + " fenced transaction of the previous term, and the takeover is retried", property(name,
                            "fencing.idle-timeout"), config.fencing().idleTimeout(), property(name, "poll"), config.poll());
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
            if (eviction != null) {
                eviction.stop();
            }
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
        return Uni.createFrom().completionStage(() -> LockHolder.find(pool(), lock)
                .compose(holder -> holder.isEmpty() ? Future.succeededFuture(Optional.<LeaderInfo> empty())
                        : pool().preparedQuery(terms.currentTermSql()).execute(Tuple.of(lock)).map(rows -> {
                            for (Row row : rows) {
                                String leader = row.getString("instance_id");
                                Instant since = row.getOffsetDateTime("since").toInstant();
                                // a holder that has not begun its term in this session yet (a takeover under way, or
                                // the same instance back on a new session) does not lead yet; of another role's
                                // session, without pg_read_all_stats, only its name can be read, and it decides
                                Instant started = holder.get().backendStart();
                                if (applicationName(leader).equals(holder.get().applicationName())
                                        && (started == null || !since.isBefore(started))) {
                                    return Optional.of(new LeaderInfo(leader, row.getLong("term"), since));
                                }
                            }
                            return Optional.<LeaderInfo> empty();
                        }))
                .toCompletionStage());
    }

    @Override
    public OptionalLong term() {
        ElectionSession current = election;
        return current != null && current.isLeader() ? OptionalLong.of(current.term()) : OptionalLong.empty();
    }

    @Override
    public <T> Uni<T> fenced(Function<SqlConnection, Uni<T>> work) {
        // decided on each subscription: a retry, or a Uni subscribed later, sees leadership as it is then
        return Uni.createFrom().deferred(() -> {
            ElectionSession current = election;
            if (current == null || !current.isLeader()) {
                return Uni.createFrom().failure(new FencedException("Instance " + instanceId + " does not lead lock "
                        + lock + ": fenced transactions run on the leader only"));
            }
            long term = current.term();
            AtomicBoolean committing = new AtomicBoolean();
            AtomicLong transactionId = new AtomicLong();
            AtomicReference<T> outcome = new AtomicReference<>();
            return mutinyPool().withTransaction(conn -> conn.query(terms.fenceSql(lock)).execute()
                    .chain(rows -> {
                        Long held = null;
                        for (io.vertx.mutiny.sqlclient.Row row : rows.next()) {
                            held = row.getLong(0);
                            transactionId.set(row.getLong(1));
                        }
                        if (held == null || held != term) {
                            return Uni.createFrom().<T> failure(new FencedException("Term " + term + " of lock " + lock
                                    + " is over (the term table " + terms.qualifiedName() + " has " + held + ")"));
                        }
                        return work.apply(conn);
                    })
                    // the last word is ours before COMMIT: a lease that ran out meanwhile rolls the transaction back
                    .call(item -> {
                        if (!leads(current, term)) {
                            return Uni.createFrom().failure(new FencedException("Instance " + instanceId
                                    + " stopped leading lock " + lock + " (term " + term
                                    + ") before its fenced transaction could commit"));
                        }
                        outcome.set(item);
                        committing.set(true);
                        return Uni.createFrom().voidItem();
                    }))
                    .onFailure(e -> !(e instanceof FencedException))
                    .recoverWithUni(e -> afterFailure(e, committing.get(), transactionId.get(), outcome.get(), current, term));
        });
    }

    /**
     * What a fenced transaction that failed comes to. A failure before COMMIT was sent did not commit. A failed COMMIT
     * (the connection lost on the way) is looked up by the transaction's id: if it committed, the work's result stands.
     * One that did not commit in a term that is over by now is a {@link FencedException}; when PostgreSQL cannot tell,
     * the failure is passed on as it is.
     */
    private <T> Uni<T> afterFailure(Throwable failure, boolean committing, long transactionId, T result,
            ElectionSession current, long term) {
        Uni<String> status = committing ? transactionStatus(transactionId) : Uni.createFrom().item("aborted");
        return status.invoke(s -> LOG.debugf("A fenced transaction of lock %d in term %d failed %s (%s): %s", lock, term,
                committing ? "at COMMIT" : "before COMMIT", failure, s)).onItem().transformToUni(s -> switch (s) {
            case "committed" -> Uni.createFrom().item(result);
            case "aborted" -> termEnded(current, term).onItem().transformToUni(ended -> Uni.createFrom().failure(ended
                    ? new FencedException("Term " + term + " of lock " + lock + " ended while a fenced transaction ran,"
                            + " which did not commit: " + failure.getMessage(), failure)
                    : failure));
            default -> Uni.createFrom().failure(failure);
        });
    }

    /**
     * A lookup after a failed fenced transaction. It may first get a pooled connection that died with the transaction
     * (the pool learns of the close just after the failure), so it tries again briefly; a server out of reach must not
     * hold the caller up longer than a lease.
     */
    private <R> Uni<R> lookup(Uni<R> query) {
        return query.onFailure().retry().withBackOff(Duration.ofMillis(20)).atMost(3)
                .ifNoItem().after(config.lease()).fail();
    }

    /** committed, aborted, in progress, or unknown when the server cannot be asked. */
    private Uni<String> transactionStatus(long transactionId) {
        return lookup(mutinyPool().preparedQuery(terms.transactionStatusSql())
                .execute(io.vertx.mutiny.sqlclient.Tuple.of(transactionId))
                .map(rows -> rows.iterator().next().getString(0))
                .onItem().ifNull().continueWith("unknown"))
                .onFailure().recoverWithItem("unknown");
    }

    /** Whether this instance's term is over, as it knows or, failing that, as the term table says. */
    private Uni<Boolean> termEnded(ElectionSession current, long term) {
        if (!leads(current, term)) {
            return Uni.createFrom().item(true);
        }
        // its lease may not have run out yet here, while PostgreSQL has moved on (a paused process that resumes)
        return lookup(mutinyPool().preparedQuery(terms.currentTermSql()).execute(io.vertx.mutiny.sqlclient.Tuple.of(lock))
                .map(rows -> {
                    for (io.vertx.mutiny.sqlclient.Row row : rows) {
                        return row.getLong("term") != term;
                    }
                    return true;
                }))
                .onFailure().invoke(e -> LOG.debugf("Could not read the term of lock %d: %s", lock, e))
                .onFailure().recoverWithItem(() -> !leads(current, term));
    }

    private static boolean leads(ElectionSession election, long term) {
        return election.isLeader() && election.term() == term;
    }

    /** Whether the election runs and has its session to PostgreSQL; {@code true} when it is disabled. */
    public boolean reachesPostgres() {
        ElectionSession current = election;
        return !config.enabled() || (current != null && current.connected());
    }

    /** The channels this election's leader LISTENs on. */
    public List<String> channels() {
        return methods.channels();
    }

    /** This instance's part in the election: {@code leader}, {@code follower}, {@code disconnected}, {@code disabled}. */
    public String role() {
        return !enabled() ? "disabled" : !reachesPostgres() ? "disconnected" : isLeader() ? "leader" : "follower";
    }

    public boolean enabled() {
        return config.enabled();
    }

    @Override
    public Uni<Void> notify(String channel, Object payload) {
        String text;
        try {
            Channels.validateChannel(channel);
            text = encode(channel, payload);
            Channels.validatePayload(channel, text);
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(e);
        }
        return Uni.createFrom().completionStage(() -> pool().preparedQuery("SELECT pg_notify($1, $2)")
                .execute(Tuple.of(channel, text)).<Void> mapEmpty().toCompletionStage());
    }

    @Override
    public void notifyAndAwait(String channel, Object payload) {
        notify(channel, payload).await().indefinitely();
    }

    private String encode(String channel, Object payload) {
        if (payload == null) {
            throw new IllegalArgumentException("Notification payload for channel '" + channel
                    + "' is null; send a String, a JSON value or an object Jackson can serialise");
        }
        if (payload instanceof String s) {
            return s;
        }
        if (payload instanceof JsonObject json) {
            return json.encode();
        }
        if (payload instanceof JsonArray json) {
            return json.encode();
        }
        try {
            return mapper.writeValueAsString(payload);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Notification payload for channel '" + channel + "' of type "
                    + payload.getClass().getName() + " cannot be serialised to JSON: " + e.getOriginalMessage(), e);
        }
    }

    private io.vertx.mutiny.sqlclient.Pool mutinyPool() {
        io.vertx.mutiny.sqlclient.Pool current = mutinyPool;
        if (current == null) {
            current = io.vertx.mutiny.sqlclient.Pool.newInstance(pool());
            mutinyPool = current;
        }
        return current;
    }

    private Pool pool() {
        Pool current = pool;
        if (current == null) {
            current = config.datasource()
                    .map(ds -> Arc.container().select(Pool.class, new ReactiveDataSource.ReactiveDataSourceLiteral(ds)))
                    .orElseGet(() -> Arc.container().select(Pool.class))
                    .get();
            pool = current;
        }
        return current;
    }

    /** The election's own session uses the datasource's URL and credentials, never a pooled connection. */
    private PgConnectOptions connectOptions(Config mpConfig) {
        String prefix = config.datasource().map(ds -> "quarkus.datasource.\"" + ds + "\".").orElse("quarkus.datasource.");
        List<String> urls = mpConfig.getOptionalValues(prefix + "reactive.url", String.class).orElse(List.of());
        if (urls.isEmpty()) {
            throw new ConfigurationException("Instance " + instanceId + " cannot join " + describe()
                    + ": it needs the URL of the reactive datasource"
                    + config.datasource().map(n -> " '" + n + "'").orElse("") + ": set " + prefix + "reactive.url (or " + property(name, "enabled") + "=false to run without the election)");
        }
        String url = urls.get(0).replaceFirst("^vertx-reactive:", "");
        PgConnectOptions options;
        try {
            options = PgConnectOptions.fromUri(url);
        } catch (RuntimeException e) {
            throw new ConfigurationException("Invalid " + prefix + "reactive.url '" + url
                    + "' for leader election: expected postgresql://host:port/database (" + e.getMessage() + ")");
        }
        mpConfig.getOptionalValue(prefix + "username", String.class).ifPresent(options::setUser);
        mpConfig.getOptionalValue(prefix + "password", String.class).ifPresent(options::setPassword);
        options.addProperty("application_name", applicationName(instanceId));
        options.setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.lease().toMillis()));
        return options;
    }

    /** Fails start-up on values the election cannot run with, naming the property. */
    static void validate(String name, ElectionConfig config) {
        requirePositive(property(name, "poll"), config.poll());
        requirePositive(property(name, "heartbeat"), config.heartbeat());
        requirePositive(property(name, "lease"), config.lease());
        requirePositive(property(name, "reconnect-initial-delay"), config.reconnectInitialDelay());
        requirePositive(property(name, "reconnect-max-delay"), config.reconnectMaxDelay());
        if (config.heartbeat().compareTo(config.lease()) >= 0) {
            throw new ConfigurationException(property(name, "heartbeat") + " (" + config.heartbeat()
                    + ") must be shorter than " + property(name, "lease") + " (" + config.lease()
                    + "), or every lease would run out before it is confirmed; a third of the lease or less is usual");
        }
        if (config.reconnectMaxDelay().compareTo(config.reconnectInitialDelay()) < 0) {
            throw new ConfigurationException(property(name, "reconnect-max-delay") + " (" + config.reconnectMaxDelay()
                    + ") must not be shorter than " + property(name, "reconnect-initial-delay") + " ("
                    + config.reconnectInitialDelay() + ")");
        }
        if (config.shutdownTimeout().isNegative()) {
            throw new ConfigurationException(property(name, "shutdown-timeout") + " must not be negative, got "
                    + config.shutdownTimeout());
        }
        if (config.observerTimeout().isNegative()) {
            throw new ConfigurationException(property(name, "observer-timeout") + " must not be negative, got "
                    + config.observerTimeout());
        }
        requirePositive(property(name, "fencing.idle-timeout"), config.fencing().idleTimeout());
        if (config.fencing().table().isBlank()) {
            throw new ConfigurationException(property(name, "fencing.table") + " must not be blank; the default is "
                    + TermTable.DEFAULT_TABLE);
        }
        config.fencing().schema().filter(String::isBlank).ifPresent(schema -> {
            throw new ConfigurationException(property(name, "fencing.schema") + " must not be blank; leave it unset"
                    + " for the first schema of the search_path");
        });
        config.instanceId().filter(String::isBlank).ifPresent(id -> {
            throw new ConfigurationException(property(name, "instance-id") + " must not be blank");
        });
    }

    /** The full name of an election's property: {@code quarkus.leader.poll}, {@code quarkus.leader."jobs".poll}. */
    static String property(String election, String property) {
        return LeaderElection.DEFAULT_NAME.equals(election) ? "quarkus.leader." + property
                : "quarkus.leader.\"" + election + "\"." + property;
    }

    /** "the leader election", or "the leader election 'jobs'", for messages. */
    String describe() {
        return LeaderElection.DEFAULT_NAME.equals(name) ? "the leader election" : "the leader election '" + name + "'";
    }

    private static void requirePositive(String property, Duration value) {
        if (value.toMillis() < 1) {
            throw new ConfigurationException(property + " must be at least 1ms, got " + value);
        }
    }

    /** {@code leader:<instance-id>} for the default election, {@code leader/<election>:<instance-id>} for a named one. */
    private String applicationName(String instanceId) {
        String name = (LeaderElection.DEFAULT_NAME.equals(this.name) ? "leader:" : "leader/" + this.name + ":")
                + instanceId;
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        // PostgreSQL truncates application_name to 63 bytes; cut on a character boundary ourselves
        while (bytes.length > 63) {
            name = name.substring(0, name.length() - 1);
            bytes = name.getBytes(StandardCharsets.UTF_8);
        }
        return name;
    }

    static String defaultInstanceId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 4);
    }

    /** A key derived from the application name, and the election's name for a named election. */
    static long defaultLock(Config mpConfig, String election) {
        String name = mpConfig.getOptionalValue("quarkus.application.name", String.class)
                .orElseThrow(() -> new ConfigurationException("Leader election needs a lock key: set "
                        + property(election, "lock") + " (a bigint) or quarkus.application.name"));
        String seed = "quarkus-leader:" + name + (LeaderElection.DEFAULT_NAME.equals(election) ? "" : ":" + election);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
            long key = 0;
            for (int i = 0; i < 8; i++) {
                key = (key << 8) | (digest[i] & 0xff);
            }
            return key;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Turns the election's reports into CDI events and dispatches notifications. */
    private final class Listener implements ElectionListener {

        final LeadershipEvents leadershipEvents;
        ElectionSession election;
        NotificationDispatcher dispatcher;

        Listener(LeadershipEvents leadershipEvents) {
            this.leadershipEvents = leadershipEvents;
        }

        @Override
        public Future<Void> leadershipChanged(boolean leader, long term, Instant at) {
            if (!leader) {
                dispatcher.discardQueued();
            }
            metrics.leadershipChanged(name, leader, leader ? election.lastAcquireTime() : null);
            return leadershipEvents.fire(new LeadershipChanged(name, leader, instanceId, lock, term, at));
        }

        @Override
        public void notification(String channel, String payload) {
            dispatcher.dispatch(channel, payload);
        }

        @Override
        public Future<Void> drain() {
            return dispatcher.drain(config.shutdownTimeout());
        }
    }
}
