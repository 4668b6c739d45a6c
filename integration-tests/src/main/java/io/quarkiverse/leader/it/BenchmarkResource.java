package io.quarkiverse.leader.it;

import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;

import io.quarkiverse.leader.LeaderElection;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * Drives the benchmark from the outside: a follower sends, the leader's {@link BenchmarkProbe} measures.
 */
@Path("/bench")
public class BenchmarkResource {

    private static final int MAX_RATE = 100_000;

    @Inject
    LeaderElection election;

    @Inject
    BenchmarkProbe probe;

    /**
     * Sends {@code count} notifications of about {@code size} bytes, at most {@code concurrency} in flight; with
     * {@code rate} above 0, one every 1/{@code rate} s (a paced load, for latency), otherwise as fast as they go. A paced
     * notification carries the time its tick fired, before any wait for the one ahead of it, so that a sender that
     * falls behind shows in the latency instead of hiding it.
     */
    @POST
    @Path("send")
    public Uni<Map<String, Object>> send(@QueryParam("count") int count, @QueryParam("size") @DefaultValue("64") int size,
            @QueryParam("concurrency") @DefaultValue("1") int concurrency, @QueryParam("rate") @DefaultValue("0") int rate) {
        if (rate < 0 || rate > MAX_RATE) {
            throw new BadRequestException("rate must be between 0 (unpaced) and " + MAX_RATE + " per second, not " + rate);
        }
        String padding = "x".repeat(Math.max(0, size - 48));
        long started = System.nanoTime();
        Multi<Tick> ticks = rate > 0
                ? Multi.createFrom().ticks().every(Duration.ofNanos(1_000_000_000L / rate))
                        .onItem().transform(i -> new Tick(i, BenchmarkProbe.nowMicros()))
                        .onOverflow().buffer(count).select().first(count)
                : Multi.createFrom().range(0, count).onItem().transform(i -> new Tick(i, -1));
        return ticks
                .onItem().transformToUni(tick -> election.notify("bench", "{\"sentMicros\":"
                        + (tick.firedMicros() >= 0 ? tick.firedMicros() : BenchmarkProbe.nowMicros()) + ",\"seq\":"
                        + tick.seq() + ",\"pad\":\"" + padding + "\"}"))
                .merge(concurrency)
                .collect().last()
                .map(ignored -> Map.of("sent", count, "millis", (System.nanoTime() - started) / 1_000_000));
    }

    /** One notification to send: its number and, when paced, when its tick fired (else -1: stamped as it goes out). */
    record Tick(long seq, long firedMicros) {
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
