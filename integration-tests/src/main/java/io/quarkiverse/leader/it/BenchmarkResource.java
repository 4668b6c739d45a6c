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
 * Drives the benchmark from the outside: a follower sends, the leader's {@link BenchmarkProbe} (notifications) or
 * {@link DurableBenchmarkProbe} (durable messages) measures.
 */
@Path("/bench")
public class BenchmarkResource {

    private static final int MAX_RATE = 100_000;

    @Inject
    LeaderElection election;

    @Inject
    BenchmarkProbe probe;

    @Inject
    DurableBenchmarkProbe durableProbe;

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
        return ticks(count, rate)
                .onItem().transformToUni(tick -> election.notify("bench", payload(tick, padding)))
                .merge(concurrency)
                .collect().last()
                .map(ignored -> Map.of("sent", count, "millis", (System.nanoTime() - started) / 1_000_000));
    }

    /**
     * Sends {@code count} durable messages on {@code channel} with {@code LeaderElection.send}, paced as {@link #send} is,
     * at most {@code concurrency} in flight. {@code micros} runs from the first send to the last one committed: one HTTP
     * request for the whole run, so that it times {@code send}, not the HTTP stack.
     */
    @POST
    @Path("durable/send")
    public Uni<Map<String, Object>> sendDurable(@QueryParam("channel") String channel, @QueryParam("count") int count,
            @QueryParam("concurrency") @DefaultValue("1") int concurrency, @QueryParam("rate") @DefaultValue("0") int rate) {
        if (rate < 0 || rate > MAX_RATE) {
            throw new BadRequestException("rate must be between 0 (unpaced) and " + MAX_RATE + " per second, not " + rate);
        }
        long started = System.nanoTime();
        return ticks(count, rate)
                .onItem().transformToUni(tick -> election.send(channel, payload(tick, "")))
                .merge(concurrency)
                .collect().last()
                .map(ignored -> Map.of("sent", count, "micros", (System.nanoTime() - started) / 1_000));
    }

    @POST
    @Path("durable/reset")
    public void resetDurable(@QueryParam("channel") String channel) {
        durableProbe.recorder(channel).reset();
    }

    /** How many messages the channel's probe has seen: cheap enough to poll while a run goes on. */
    @GET
    @Path("durable/count")
    public int durableCount(@QueryParam("channel") String channel) {
        return durableProbe.recorder(channel).count();
    }

    @GET
    @Path("durable/stats")
    public Map<String, Object> durableStats(@QueryParam("channel") String channel) {
        return durableProbe.stats(channel);
    }

    /**
     * {@code count} ticks, one every 1/{@code rate} s with the time each fired, or with {@code rate} 0 as fast as they are
     * taken (stamped as each goes out). A paced message carries the time its tick fired, before any wait for the one
     * ahead of it, so that a sender that falls behind shows in the latency instead of hiding it.
     */
    private static Multi<Tick> ticks(int count, int rate) {
        return rate > 0
                ? Multi.createFrom().ticks().every(Duration.ofNanos(1_000_000_000L / rate))
                        .onItem().transform(i -> new Tick(i, BenchmarkProbe.nowMicros()))
                        // count ticks at most, so that a sender that falls behind buffers at most those
                        .select().first(count).onOverflow().buffer(count)
                : Multi.createFrom().range(0, count).onItem().transform(i -> new Tick(i, -1));
    }

    private static String payload(Tick tick, String padding) {
        return "{\"sentMicros\":" + (tick.firedMicros() >= 0 ? tick.firedMicros() : BenchmarkProbe.nowMicros())
                + ",\"seq\":" + tick.seq() + ",\"pad\":\"" + padding + "\"}";
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
