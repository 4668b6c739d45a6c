package io.quarkiverse.leader.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Walks the hosts of an election's datasource in the order of its URLs until one gives a session on a primary: a host
 * that is down, a standby in recovery or read-only is skipped. With one host its own failure is reported as it is;
 * with several, {@link NoPrimary} names each host and why it was skipped.
 */
final class PrimaryHosts {

    private final ElectionOptions options;
    private final SessionSetup setup;
    private final BooleanSupplier cancelled;

    /** {@code cancelled}: whether the election is leaving, when the walk is to go no further. */
    PrimaryHosts(ElectionOptions options, SessionSetup setup, BooleanSupplier cancelled) {
        this.options = options;
        this.setup = setup;
        this.cancelled = cancelled;
    }

    /** The first session on a primary, on the election's context. */
    Future<BackendSession> open() {
        return setup.hosts().compose(hosts -> cancelled.getAsBoolean() ? leaving()
                : hosts.size() == 1 ? setup.open(hosts.get(0)) : openFrom(hosts, 0, new ArrayList<>()));
    }

    private Future<BackendSession> openFrom(List<PgConnectOptions> hosts, int index, List<Skipped> skipped) {
        if (cancelled.getAsBoolean()) {
            return leaving();
        }
        if (index == hosts.size()) {
            return Future.failedFuture(new NoPrimary(skipped, options.datasource()));
        }
        PgConnectOptions host = hosts.get(index);
        Future<BackendSession> opening = setup.open(host);
        // a host that accepts the connection and then goes silent must not keep the others from being tried
        return opening.timeout(options.lease().toMillis(), TimeUnit.MILLISECONDS).recover(failure -> {
            opening.onSuccess(session -> session.conn().close()); // a session that arrives after the bound is not used
            skipped.add(new Skipped(host, failure));
            return openFrom(hosts, index + 1, skipped);
        });
    }

    /** No further host once the election is leaving: its connection factory closes soon after. */
    private static Future<BackendSession> leaving() {
        return Future.failedFuture(new IllegalStateException("the election is leaving"));
    }

    /** A host that gave no session on a primary, and why. */
    record Skipped(PgConnectOptions host, Throwable failure) {

        String describe() {
            return host.getHost() + ":" + host.getPort() + " (" + SessionSetup.describe(failure) + ")";
        }
    }

    /** The server is a standby in recovery, or takes read-only transactions only: the election cannot lead there. */
    static final class NotPrimary extends IllegalStateException {

        private NotPrimary(String message) {
            super(message);
        }

        static NotPrimary of(boolean inRecovery) {
            return new NotPrimary(inRecovery
                    ? "the server is a standby in recovery; advisory locks there are not shared with the primary"
                    : "the server takes read-only transactions only (transaction_read_only is on); the election"
                            + " cannot begin a term there");
        }
    }

    /** None of the datasource's hosts gave a session on a primary. */
    static final class NoPrimary extends IllegalStateException {

        private final transient List<Skipped> skipped;
        private final transient SessionDatasource datasource;

        NoPrimary(List<Skipped> skipped, SessionDatasource datasource) {
            super("none of its " + skipped.size() + " hosts is a primary that takes its session: "
                    + String.join("; ", skipped.stream().map(Skipped::describe).toList()));
            this.skipped = List.copyOf(skipped);
            this.datasource = datasource;
        }

        /** Whether every host failed as {@code test} says: how a retry treats the walk as a whole. */
        boolean all(Predicate<Throwable> test) {
            return skipped.stream().map(Skipped::failure).allMatch(test);
        }

        /** The settings to check, host by host, where there is something to say. */
        String advice() {
            List<String> advice = new ArrayList<>();
            for (Skipped each : skipped) {
                String text = datasource.advice(each.failure(), each.host());
                if (!text.isEmpty()) {
                    advice.add(each.host().getHost() + ":" + each.host().getPort() + ": " + text);
                }
            }
            return String.join("; ", advice);
        }
    }
}
