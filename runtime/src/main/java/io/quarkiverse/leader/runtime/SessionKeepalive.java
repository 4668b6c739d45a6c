package io.quarkiverse.leader.runtime;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.impl.SqlConnectionBase;
import jdk.net.ExtendedSocketOptions;

/**
 * TCP keepalive with a short idle time on the client end of an election session, so that a follower can wait for the
 * lock without a timeout, sending nothing, and still notice a server that has gone silent. Vert.x's JDK transport sets
 * only {@code SO_KEEPALIVE} (the system's idle time, two hours by default), so the idle time, interval and count are set
 * on the socket here.
 */
final class SessionKeepalive {

    private SessionKeepalive() {
    }

    /**
     * @return whether the socket of {@code conn} now probes a silent peer after {@code idleSeconds}, every
     *         {@code intervalSeconds}, {@code count} times; false where the transport or platform does not allow it
     */
    static boolean apply(PgConnection conn, int idleSeconds, int intervalSeconds, int count) {
        try {
            if (conn instanceof SqlConnectionBase<?> base && base.unwrap() instanceof SocketConnectionBase socket
                    && socket.socket().channelHandlerContext().channel() instanceof NioSocketChannel channel) {
                return set(channel, ChannelOption.SO_KEEPALIVE, true)
                        && set(channel, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idleSeconds)
                        && set(channel, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), intervalSeconds)
                        && set(channel, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), count);
            }
            return false; // a native transport, or a client implementation this does not know
        } catch (RuntimeException | LinkageError e) { // an option the platform lacks, or no jdk.net (some native images)
            return false;
        }
    }

    private static <T> boolean set(Channel channel, ChannelOption<T> option, T value) {
        return channel.config().setOption(option, value) && value.equals(channel.config().getOption(option));
    }
}
