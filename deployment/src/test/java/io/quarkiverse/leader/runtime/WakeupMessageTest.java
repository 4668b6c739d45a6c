package io.quarkiverse.leader.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import org.junit.jupiter.api.Test;

import io.quarkiverse.leader.test.TestPostgres;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;

/**
 * The send function writes the wake-up that carries a message and {@link WakeupMessage} reads it back: the server's
 * own notifications, for channel names and payloads that hold the format's separators and characters of every width.
 */
class WakeupMessageTest {

    static final String TABLE = "wakeup_format_test_messages";
    static final String FUNCTION = "wakeup_format_test_send";
    static final String CHANNEL = "wakeup_format_test";

    @Test
    void theFunctionsWakeupReadsBackAsTheMessageItStored() {
        created(TABLE, FUNCTION, CHANNEL, true);
        BlockingQueue<String> wakeups = new LinkedBlockingQueue<>();
        PgConnection listener = listener(CHANNEL, wakeups);
        try {
            for (List<String> sent : List.of(List.of("orders", "{\"id\": 1}"), List.of("a b 3 4", "5 6 \u0001 7"),
                    List.of("\u0001 1 2 3 4 ", ""), List.of("zürich 🚀", "façade 🚀 😀"))) {
                long id = TestPostgres.sql("SELECT " + FUNCTION + "($1, $2)", sent.get(0), sent.get(1)).get(0)
                        .getLong(0);
                Row stored = TestPostgres.sql("SELECT id, sent_at, octet_length(payload) AS size FROM " + TABLE
                        + " WHERE id = $1", id).get(0);

                WakeupMessage read = WakeupMessage.parse(await().atMost(Duration.ofSeconds(5))
                        .until(wakeups::poll, Objects::nonNull));

                assertThat(read).isNotNull();
                assertThat(read.channel()).isEqualTo(sent.get(0));
                assertThat(read.payload()).isEqualTo(sent.get(1));
                assertThat(read.id()).isEqualTo(stored.getLong("id"));
                DurableMessage message = read.message(1 << 20);
                assertThat(message.size()).isEqualTo(stored.getInteger("size"));
                assertThat(message.sentAt().toInstant()).isEqualTo(stored.getOffsetDateTime("sent_at").toInstant());
                // the writes on a message from its wake-up require this of the stored row
                assertThat(TestPostgres.sql("SELECT count(*) FROM " + TABLE + " WHERE id = $1 AND "
                        + MessageTable.storedDigest() + " = $2", id, Buffer.buffer(read.digest())).get(0).getLong(0))
                        .isEqualTo(1);
                assertThat(new WakeupMessage(read.channel(), id, 0, read.payload() + " ").digest())
                        .isNotEqualTo(read.digest());
            }
            String large = "x".repeat(MessageTable.WAKEUP_PAYLOAD_BYTES + 1);
            TestPostgres.sql("SELECT " + FUNCTION + "('orders', $1)", large);
            String wakeup = await().atMost(Duration.ofSeconds(5)).until(wakeups::poll, Objects::nonNull);
            assertThat(wakeup).isEqualTo("orders"); // too large to ride along: its channel alone
        } finally {
            listener.close();
        }
    }

    @Test
    void withoutWakeupPayloadsTheFunctionsWakeupNamesTheChannelAlone() {
        created(TABLE + "_plain", FUNCTION + "_plain", CHANNEL + "_plain", false);
        BlockingQueue<String> wakeups = new LinkedBlockingQueue<>();
        PgConnection listener = listener(CHANNEL + "_plain", wakeups);
        try {
            TestPostgres.sql("SELECT " + FUNCTION + "_plain('orders', 'small')");
            String wakeup = await().atMost(Duration.ofSeconds(5)).until(wakeups::poll, Objects::nonNull);
            assertThat(wakeup).isEqualTo("orders");
        } finally {
            listener.close();
        }
    }

    private static void created(String table, String function, String channel, boolean wakeupPayload) {
        MessageTable storage = new MessageTable(Optional.empty(), TestPostgres.freshDurableStorage(table, function),
                function, channel, wakeupPayload, true, "create-table", "function").in("public");
        for (String statement : storage.ddl().split(";\n(?=CREATE)")) {
            TestPostgres.sql(statement);
        }
    }

    private static PgConnection listener(String channel, BlockingQueue<String> wakeups) {
        PgConnection listener = TestPostgres.connect();
        listener.notificationHandler(n -> wakeups.add(n.getPayload()));
        TestPostgres.await(listener.query("LISTEN " + channel).execute());
        return listener;
    }

    @Test
    void aWakeupThatNamesItsChannelAloneOrIsNotTheFunctionsCarriesNoMessage() {
        assertThat(WakeupMessage.parse("orders")).isNull();
        assertThat(WakeupMessage.parse("")).isNull();
        assertThat(WakeupMessage.parse("\u0001")).isNull();
        assertThat(WakeupMessage.parse("\u00011 2")).isNull();
        assertThat(WakeupMessage.parse("\u00011 2 x orders")).isNull();
        assertThat(WakeupMessage.parse("\u00011 2 9 short")).isNull(); // the channel's length runs past the end
        assertThat(WakeupMessage.parse("\u00011 2 -1 orders")).isNull();
        assertThat(WakeupMessage.parse("\u00011 2 6 orders")).isEqualTo(new WakeupMessage("orders", 1, 2, ""));
    }
}
