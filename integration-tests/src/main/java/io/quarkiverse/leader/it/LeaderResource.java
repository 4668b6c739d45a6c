package io.quarkiverse.leader.it;

import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkiverse.leader.Election;
import io.quarkiverse.leader.LeaderElection;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;

@Path("/")
public class LeaderResource {

    @Inject
    LeaderElection election;

    @Inject
    @Election("reports")
    LeaderElection reports;

    @Inject
    ReceivedNotifications received;

    @Inject
    Pool pool;

    @Inject
    LeadershipHistory history;

    @GET
    @Path("leader")
    public Map<String, Object> leader() {
        return Map.of("leader", election.isLeader(), "instance", election.instanceId(), "term", election.term().orElse(0));
    }

    /** This instance's role in each of its elections. */
    @GET
    @Path("leader/elections")
    public List<Map<String, Object>> elections() {
        return List.of(election, reports).stream()
                .map(e -> Map.<String, Object> of("name", e.name(), "leader", e.isLeader(), "lock", e.lock()))
                .toList();
    }

    /** Who leads the cluster now, in which term and since when; 204 during a handover. */
    @GET
    @Path("leader/current")
    public Uni<Response> current() {
        return election.currentLeader()
                .map(leader -> leader.map(Response::ok).orElseGet(Response::noContent).build());
    }

    @GET
    @Path("leader/history")
    public List<LeadershipHistory.Transition> history() {
        return history.transitions();
    }

    @POST
    @Path("notify/{channel}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Void> notify(@PathParam("channel") String channel, JsonNode body) {
        return election.notify(channel, body.toString());
    }

    /**
     * Stores a durable message and answers its id. With {@code rollback=true} it is stored in a transaction of the
     * sample's pool that then rolls back (the outbox API): the id answered is one that was never committed.
     */
    @POST
    @Path("send/{channel}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Long> send(@PathParam("channel") String channel, @QueryParam("rollback") boolean rollback, JsonNode body) {
        if (!rollback) {
            return election.send(channel, body.toString());
        }
        return pool.withConnection(conn -> conn.begin()
                .chain(tx -> election.send(conn, channel, body.toString()).call(id -> tx.rollback())
                        // a send that failed rolls back too, before the connection goes back to the pool
                        .onFailure().call(() -> tx.rollback().onFailure().recoverWithNull())));
    }

    @GET
    @Path("received/{channel}")
    public List<JsonNode> received(@PathParam("channel") String channel) {
        return received.on(channel);
    }
}
