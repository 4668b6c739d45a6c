package io.quarkiverse.leader.it;

import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Response;

import io.quarkiverse.leader.FencedException;
import io.quarkiverse.leader.LeaderElection;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Two writes in one fenced transaction, {@code holdMs} apart, into {@code sample_fenced_writes} (lock_key bigint, term
 * bigint, instance_id text, request text, step text, at timestamptz). 200 with the term once committed, 409 when fenced
 * off.
 */
@Path("/fenced")
public class FencedWrites {

    @Inject
    LeaderElection election;

    @POST
    public Uni<Response> write(@QueryParam("holdMs") @DefaultValue("0") long holdMs,
            @QueryParam("request") @DefaultValue("") String request) {
        long term = election.term().orElse(0);
        return election.fenced(conn -> insert(conn, term, request, "begin")
                .chain(() -> holdMs > 0 ? Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(holdMs))
                        : Uni.createFrom().voidItem())
                .chain(() -> insert(conn, term, request, "commit")))
                .map(written -> Response.ok(Map.of("term", term)).build())
                .onFailure(FencedException.class)
                .recoverWithItem(e -> Response.status(409).entity(Map.of("term", term, "fenced", e.getMessage())).build());
    }

    private Uni<Void> insert(SqlConnection conn, long term, String request, String step) {
        return conn.preparedQuery("INSERT INTO sample_fenced_writes (lock_key, term, instance_id, request, step, at)"
                + " VALUES ($1, $2, $3, $4, $5, clock_timestamp())")
                .execute(Tuple.of(election.lock(), term, election.instanceId(), request, step)).replaceWithVoid();
    }
}
