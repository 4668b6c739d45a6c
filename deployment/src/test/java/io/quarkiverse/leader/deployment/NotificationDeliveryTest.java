package io.quarkiverse.leader.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.OnLeaderNotification;
import io.quarkiverse.leader.test.LeaderUnitTest;
import io.quarkiverse.leader.test.TestPostgres;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;

/**
 * A single instance leads and routes every notification, intact, to the methods of its channel.
 */
class NotificationDeliveryTest {

    static final String LONG_CHANNEL = "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
    static final String MIXED_CHANNEL = "Mixed.Case \"quoted\"";

    @RegisterExtension
    static final QuarkusUnitTest TEST = LeaderUnitTest.create(Handlers.class, Order.class, Checked.class)
            .overrideConfigKey("quarkus.leader.heartbeat", "20ms")
            .overrideConfigKey("quarkus.leader.lease", "2s");

    @Inject
    LeaderElection election;

    @Inject
    Handlers handlers;

    @BeforeEach
    void awaitLeadership() {
        await().atMost(Duration.ofSeconds(15)).until(election::isLeader);
    }

    @Test
    void stringPayloadArrivesIntact() {
        String tricky = "it's a \"quote\", a back\\slash, 'single', émoji 😀 and a newline\n";
        election.notifyAndAwait("raw", tricky);
        await().untilAsserted(() -> assertThat(handlers.raw).contains(tricky));
    }

    @Test
    void objectPayloadIsSerialisedAndRead() {
        Order order = new Order("o'1 \"x\" 😀", 3);
        election.notifyAndAwait("orders", order);
        await().untilAsserted(() -> assertThat(handlers.orders).contains(order));
    }

    @Test
    void eachChannelReachesOnlyItsMethods() {
        election.notifyAndAwait("json", new JsonObject().put("to", "json"));
        election.notifyAndAwait("node", "{\"to\":\"node\"}");
        election.notifyAndAwait("ping", "");
        await().untilAsserted(() -> {
            assertThat(handlers.json).containsExactly(new JsonObject().put("to", "json"));
            assertThat(handlers.nodes).hasSize(1);
            assertThat(handlers.nodes.get(0).get("to").asText()).isEqualTo("node");
            assertThat(handlers.pings).hasValue(1);
        });
        assertThat(handlers.raw).noneMatch(p -> p.contains("\"to\""));
    }

    @Test
    void mixedCaseAnd63ByteChannelsWork() {
        election.notifyAndAwait(MIXED_CHANNEL, "mixed");
        election.notifyAndAwait(LONG_CHANNEL, "long");
        await().untilAsserted(() -> {
            assertThat(handlers.mixed).containsExactly("mixed");
            assertThat(handlers.longChannel).containsExactly("long");
        });
        assertThat(handlers.mixedOnEventLoop).isTrue();
    }

    @Test
    void executionModelsAreHonoured() {
        election.notifyAndAwait("blocking-uni", "b");
        election.notifyAndAwait("virtual", "v");
        await().untilAsserted(() -> {
            assertThat(handlers.blockingUniOnEventLoop).containsExactly(false);
            assertThat(handlers.virtualOnEventLoop).containsExactly(false);
        });
        // on a JDK with virtual threads (21+) the method runs on one; on 17 it falls back to a worker
        assertThat(handlers.virtualThread).containsExactly(VIRTUAL_THREADS);
    }

    /** Whether this JDK has virtual threads. */
    static final boolean VIRTUAL_THREADS = Runtime.version().feature() >= 21;

    /** {@code Thread.isVirtual()}, called where the JDK has it; false on older ones. */
    static boolean onVirtualThread() {
        try {
            return (Boolean) Thread.class.getMethod("isVirtual").invoke(Thread.currentThread());
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    @Test
    void listAndArrayPayloadsAreRead() {
        List<Order> orders = List.of(new Order("a", 1), new Order("b", 2));
        election.notifyAndAwait("batch", orders);
        election.notifyAndAwait("array", orders);
        await().untilAsserted(() -> {
            assertThat(handlers.batches).containsExactly(orders);
            assertThat(handlers.arrays).containsExactly(orders);
        });
    }

    @Test
    void typeAnnotationsOnTheParameterDoNotMatter() {
        Order order = new Order("annotated", 5);
        election.notifyAndAwait("annotated", order);
        await().untilAsserted(() -> assertThat(handlers.annotated).containsExactly(order));
    }

    @Test
    void unorderedMethodCallsOverlap() {
        TestPostgres.sql("SELECT pg_notify('overlap', i::text) FROM generate_series(1, 10) AS i");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(handlers.overlapped).hasSize(10));
        assertThat(handlers.maxOverlap.get()).isGreaterThan(1);
    }

    @Test
    void throwingHandlerDoesNotStopDelivery() {
        election.notifyAndAwait("flaky", "boom");
        election.notifyAndAwait("flaky", "after");
        await().untilAsserted(() -> {
            assertThat(handlers.flaky).containsExactly("after");
            assertThat(handlers.flakyToo).containsExactly("boom", "after");
        });
    }

    @Test
    void invalidJsonIsLoggedAndTheNextIsHandled() {
        election.notifyAndAwait("orders", "this is not JSON");
        Order next = new Order("next", 1);
        election.notifyAndAwait("orders", next);
        await().untilAsserted(() -> assertThat(handlers.orders).contains(next));
    }

    @Test
    void rapidNotificationsFromAnotherConnectionAllArriveInOrderOneAtATime() {
        TestPostgres.sql("SELECT pg_notify('sequence', i::text) FROM generate_series(1, 500) AS i");
        List<String> expected = IntStream.rangeClosed(1, 500).mapToObj(Integer::toString).toList();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(handlers.sequence).isEqualTo(expected));
        assertThat(handlers.maxConcurrent).hasValue(1);
    }

    @Test
    void noNotificationIsLostWhileTheLeaderConfirmsItsSession() {
        // heartbeat is 20ms: 300 sends one by one span many heartbeats
        PgConnection conn = TestPostgres.connect();
        try {
            for (int i = 0; i < 300; i++) {
                TestPostgres.await(conn.preparedQuery("SELECT pg_notify('steady', $1)").execute(Tuple.of("n" + i)));
            }
        } finally {
            conn.close();
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(handlers.steady).hasSize(300));
        assertThat(handlers.steady).doesNotHaveDuplicates();
    }

    @Test
    void payloadAtTheLimitIsSentAndOneByteMoreIsRejected() {
        String atLimit = "x".repeat(7999);
        election.notifyAndAwait("raw", atLimit);
        await().untilAsserted(() -> assertThat(handlers.raw).contains(atLimit));

        assertThatThrownBy(() -> election.notifyAndAwait("raw", "x".repeat(8000)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("'raw'", "8000 bytes", "at most 7999");
        // 2000 emoji are 4000 chars but 8000 bytes
        assertThatThrownBy(() -> election.notifyAndAwait("raw", "😀".repeat(2000)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("8000 bytes");
    }

    @Test
    void invalidChannelsAndNullPayloadAreRejectedBeforeSending() {
        assertThatThrownBy(() -> election.notifyAndAwait("", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("it is empty");
        assertThatThrownBy(() -> election.notifyAndAwait("c".repeat(64), "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64 bytes");
        assertThatThrownBy(() -> election.notifyAndAwait("raw", null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
    }

    public record Order(String id, int quantity) {
    }

    @Target(ElementType.TYPE_USE)
    @Retention(RetentionPolicy.RUNTIME)
    public @interface Checked {
    }

    static class Handlers {

        final List<String> raw = new CopyOnWriteArrayList<>();
        final List<Order> orders = new CopyOnWriteArrayList<>();
        final List<JsonObject> json = new CopyOnWriteArrayList<>();
        final List<JsonNode> nodes = new CopyOnWriteArrayList<>();
        final AtomicInteger pings = new AtomicInteger();
        final List<String> mixed = new CopyOnWriteArrayList<>();
        volatile boolean mixedOnEventLoop;
        final List<String> longChannel = new CopyOnWriteArrayList<>();
        final List<String> flaky = new CopyOnWriteArrayList<>();
        final List<String> flakyToo = new CopyOnWriteArrayList<>();
        final List<String> sequence = new CopyOnWriteArrayList<>();
        final AtomicInteger concurrent = new AtomicInteger();
        final AtomicInteger maxConcurrent = new AtomicInteger();
        final List<String> steady = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("raw")
        void raw(String payload) {
            raw.add(payload);
        }

        @OnLeaderNotification("orders")
        void orders(Order order) {
            orders.add(order);
        }

        @OnLeaderNotification("json")
        void json(JsonObject payload) {
            json.add(payload);
        }

        @OnLeaderNotification("node")
        void node(JsonNode payload) {
            nodes.add(payload);
        }

        @OnLeaderNotification("ping")
        void ping() {
            pings.incrementAndGet();
        }

        @OnLeaderNotification(MIXED_CHANNEL)
        Uni<Void> mixed(String payload) {
            mixedOnEventLoop = Context.isOnEventLoopThread();
            mixed.add(payload);
            return Uni.createFrom().voidItem();
        }

        @NonBlocking
        @OnLeaderNotification(LONG_CHANNEL)
        CompletionStage<Void> longChannel(String payload) {
            longChannel.add(payload);
            return CompletableFuture.completedFuture(null);
        }

        @OnLeaderNotification("flaky")
        void flaky(String payload) {
            if (payload.equals("boom")) {
                throw new IllegalStateException("boom");
            }
            flaky.add(payload);
        }

        @OnLeaderNotification("flaky")
        void flakyToo(String payload) {
            flakyToo.add(payload);
        }

        @OnLeaderNotification("sequence")
        void sequence(String payload) throws InterruptedException {
            maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            Thread.sleep(1); // widen the window in which an overlap would show
            sequence.add(payload);
            concurrent.decrementAndGet();
        }

        final List<Boolean> blockingUniOnEventLoop = new CopyOnWriteArrayList<>();
        final List<Boolean> virtualOnEventLoop = new CopyOnWriteArrayList<>();
        final List<Boolean> virtualThread = new CopyOnWriteArrayList<>();
        final List<List<Order>> batches = new CopyOnWriteArrayList<>();
        final List<List<Order>> arrays = new CopyOnWriteArrayList<>();
        final List<String> overlapped = new CopyOnWriteArrayList<>();
        final AtomicInteger overlapping = new AtomicInteger();
        final AtomicInteger maxOverlap = new AtomicInteger();

        @Blocking
        @OnLeaderNotification("blocking-uni")
        Uni<Void> blockingUni(String payload) {
            blockingUniOnEventLoop.add(Context.isOnEventLoopThread());
            return Uni.createFrom().voidItem();
        }

        @RunOnVirtualThread
        @OnLeaderNotification("virtual")
        void virtual(String payload) {
            virtualThread.add(onVirtualThread());
            virtualOnEventLoop.add(Context.isOnEventLoopThread());
        }

        final List<Order> annotated = new CopyOnWriteArrayList<>();

        @OnLeaderNotification("annotated")
        void annotated(@Checked Order order) {
            annotated.add(order);
        }

        @OnLeaderNotification("batch")
        void batch(List<Order> orders) {
            batches.add(orders);
        }

        @OnLeaderNotification("array")
        void array(Order[] orders) {
            arrays.add(List.of(orders));
        }

        @OnLeaderNotification(value = "overlap", ordered = false)
        void overlap(String payload) throws InterruptedException {
            maxOverlap.accumulateAndGet(overlapping.incrementAndGet(), Math::max);
            Thread.sleep(50); // long enough for the next calls to start meanwhile
            overlapped.add(payload);
            overlapping.decrementAndGet();
        }

        @OnLeaderNotification("steady")
        void steady(String payload) {
            steady.add(payload);
        }
    }
}
