package ilove.quark.us;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.quarkiverse.leader.LeaderOnly;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;

/**
 * Among all running instances of this application one leads: only it handles the {@code greetings} channel and runs
 * the job, and every instance hears when it gains or loses the lead.
 * Send a greeting from any instance with {@code leaderElection.notify("greetings", new Greeting("me", "hello"))}, or
 * from SQL with {@code SELECT pg_notify('greetings', '{"from":"psql","text":"hello"}')}.
 */
@ApplicationScoped
public class LeaderExample {

    private final List<Greeting> greetings = new CopyOnWriteArrayList<>();
    private final AtomicInteger jobRuns = new AtomicInteger();

    @OnLeaderNotification("greetings")
    void onGreeting(Greeting greeting) {
        Log.infof("The leader received a greeting from %s: %s", greeting.from(), greeting.text());
        greetings.add(greeting);
    }

    @LeaderOnly
    @Scheduled(every = "10s")
    void cleanUp() {
        jobRuns.incrementAndGet(); // once in the cluster, on the leader
    }

    void onLeadershipChanged(@Observes LeadershipChanged change) {
        Log.infof("This instance %s", change.leader() ? "leads" : "no longer leads");
    }

    /** The greetings this instance handled while it led. */
    public List<Greeting> greetings() {
        return greetings;
    }

    /** How often the job ran on this instance. */
    public int jobRuns() {
        return jobRuns.get();
    }
}
