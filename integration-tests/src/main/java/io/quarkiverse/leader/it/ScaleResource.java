package io.quarkiverse.leader.it;

import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;

/**
 * What the scale harness reads of {@link ScaleProbe}.
 */
@Path("/scale")
public class ScaleResource {

    @Inject
    ScaleProbe probe;

    @GET
    @Path("leadership/{election}")
    public List<LeadershipHistory.Transition> leadership(@PathParam("election") String election) {
        return probe.transitions(election);
    }

    @POST
    @Path("reset")
    public void reset() {
        probe.reset();
    }

    @GET
    @Path("stats")
    public Map<String, Object> stats() {
        return probe.stats();
    }
}
