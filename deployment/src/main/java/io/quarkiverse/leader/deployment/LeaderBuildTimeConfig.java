package io.quarkiverse.leader.deployment;

import java.util.Map;
import java.util.Optional;

import io.quarkiverse.leader.LeaderElection;
import io.quarkus.runtime.annotations.ConfigDocIgnore;
import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithDefaults;
import io.smallrye.config.WithParentName;
import io.smallrye.config.WithUnnamedKey;

/**
 * Leader election, build time.
 */
@ConfigMapping(prefix = "quarkus.leader")
@ConfigRoot(phase = ConfigPhase.BUILD_TIME)
public interface LeaderBuildTimeConfig {

    /**
     * The election's health check.
     */
    Health health();

    /**
     * The elections the build declares: the default one and every name that any {@code quarkus.leader."name".*}
     * setting is given for. Only the names are fixed at build time; the values are the run-time settings.
     */
    @ConfigDocIgnore // the same properties as the run-time elections, which document them with their types and defaults
    @WithParentName
    @WithUnnamedKey(LeaderElection.DEFAULT_NAME)
    @WithDefaults
    Map<String, ElectionBuildTimeConfig> elections();

    interface Health {

        /**
         * Whether a readiness check for the election is published when the application has
         * {@code quarkus-smallrye-health}. It is UP whether or not this instance leads and DOWN while the election has
         * no session to PostgreSQL; its data shows the role, the lock and the current leader.
         */
        @WithDefault("true")
        boolean enabled();
    }

    /**
     * One election as the build sees it: each of the run-time settings of an election, by name, so that setting any of
     * them declares it. Read as strings and never converted here: a value may be valid, or resolvable, only at run
     * time.
     */
    interface ElectionBuildTimeConfig {

        /**
         * {@code enabled}, read at run time.
         */
        Optional<String> enabled();

        /**
         * {@code lock}, read at run time.
         */
        Optional<String> lock();

        /**
         * {@code datasource}, read at run time.
         */
        Optional<String> datasource();

        /**
         * {@code instance-id}, read at run time.
         */
        Optional<String> instanceId();

        /**
         * {@code acquire}, read at run time.
         */
        Optional<String> acquire();

        /**
         * {@code poll}, read at run time.
         */
        Optional<String> poll();

        /**
         * {@code heartbeat}, read at run time.
         */
        Optional<String> heartbeat();

        /**
         * {@code lease}, read at run time.
         */
        Optional<String> lease();

        /**
         * {@code reconnect-initial-delay}, read at run time.
         */
        Optional<String> reconnectInitialDelay();

        /**
         * {@code reconnect-max-delay}, read at run time.
         */
        Optional<String> reconnectMaxDelay();

        /**
         * {@code reconnect-rejected-max-delay}, read at run time.
         */
        Optional<String> reconnectRejectedMaxDelay();

        /**
         * {@code evict-hung-leader}, read at run time.
         */
        Optional<String> evictHungLeader();

        /**
         * {@code shutdown-timeout}, read at run time.
         */
        Optional<String> shutdownTimeout();

        /**
         * {@code observer-timeout}, read at run time.
         */
        Optional<String> observerTimeout();

        /**
         * {@code send-timeout}, read at run time.
         */
        Optional<String> sendTimeout();

        /**
         * {@code durable.*}, read at run time.
         */
        Durable durable();

        interface Durable {

            /**
             * {@code durable.table}, read at run time.
             */
            Optional<String> table();

            /**
             * {@code durable.schema}, read at run time.
             */
            Optional<String> schema();

            /**
             * {@code durable.function}, read at run time.
             */
            Optional<String> function();

            /**
             * {@code durable.wakeup-channel}, read at run time.
             */
            Optional<String> wakeupChannel();

            /**
             * {@code durable.wakeup-payload}, read at run time.
             */
            Optional<Boolean> wakeupPayload();

            /**
             * {@code durable.create-table}, read at run time.
             */
            Optional<String> createTable();

            /**
             * {@code durable.max-payload-size}, read at run time.
             */
            Optional<String> maxPayloadSize();

            /**
             * {@code durable.poll-interval}, read at run time.
             */
            Optional<String> pollInterval();

            /**
             * {@code durable.batch-size}, read at run time.
             */
            Optional<String> batchSize();

            /**
             * {@code durable.retry-initial-delay}, read at run time.
             */
            Optional<String> retryInitialDelay();

            /**
             * {@code durable.retry-max-delay}, read at run time.
             */
            Optional<String> retryMaxDelay();

            /**
             * {@code durable.max-attempts}, read at run time.
             */
            Optional<String> maxAttempts();

            /**
             * {@code durable.call-timeout}, read at run time.
             */
            Optional<String> callTimeout();
        }

        /**
         * {@code fencing.*}, read at run time.
         */
        Fencing fencing();

        interface Fencing {

            /**
             * {@code fencing.table}, read at run time.
             */
            Optional<String> table();

            /**
             * {@code fencing.schema}, read at run time.
             */
            Optional<String> schema();

            /**
             * {@code fencing.create-table}, read at run time.
             */
            Optional<String> createTable();

            /**
             * {@code fencing.idle-timeout}, read at run time.
             */
            Optional<String> idleTimeout();
        }

        /**
         * {@code delivery.*}, read at run time.
         */
        Delivery delivery();

        interface Delivery {

            /**
             * {@code delivery.queue-size}, read at run time.
             */
            Optional<String> queueSize();

            /**
             * {@code delivery.overflow}, read at run time.
             */
            Optional<String> overflow();

            /**
             * {@code delivery.max-concurrency}, read at run time.
             */
            Optional<String> maxConcurrency();

            /**
             * {@code delivery.handler-timeout}, read at run time.
             */
            Optional<String> handlerTimeout();

            /**
             * {@code delivery.channels."channel".*}, read at run time.
             */
            Map<String, ChannelDelivery> channels();

            interface ChannelDelivery {

                /**
                 * {@code delivery.channels."channel".queue-size}, read at run time.
                 */
                Optional<String> queueSize();

                /**
                 * {@code delivery.channels."channel".overflow}, read at run time.
                 */
                Optional<String> overflow();

                /**
                 * {@code delivery.channels."channel".max-concurrency}, read at run time.
                 */
                Optional<String> maxConcurrency();

                /**
                 * {@code delivery.channels."channel".handler-timeout}, read at run time.
                 */
                Optional<String> handlerTimeout();
            }
        }
    }
}
