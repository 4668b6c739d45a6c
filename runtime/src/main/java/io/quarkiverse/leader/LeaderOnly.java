package io.quarkiverse.leader;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import jakarta.enterprise.util.Nonbinding;
import jakarta.interceptor.InterceptorBinding;

/**
 * Runs the annotated bean method (or every business method of the annotated bean) only on the instance that leads,
 * e.g. a {@code @Scheduled} job that must run once in the cluster.
 * <p>
 * On an instance that does not lead, a method returning {@code void}, {@code Uni}, {@code Multi} or
 * {@code CompletionStage} is skipped (it returns nothing, a completed {@code Uni}/{@code CompletionStage} with a
 * {@code null} item, or an empty {@code Multi}); any other
 * method, or any method when {@link #skip()} is {@code false}, throws {@link NotLeaderException}.
 */
@InterceptorBinding
@Inherited
@Target({ ElementType.METHOD, ElementType.TYPE })
@Retention(RetentionPolicy.RUNTIME)
public @interface LeaderOnly {

    /**
     * {@code true}: on a follower, skip the call where the return type allows it. {@code false}: always throw
     * {@link NotLeaderException} on a follower.
     */
    @Nonbinding
    boolean skip() default true;

    /**
     * The election whose leader runs the method: the default election, or a named one configured with
     * {@code quarkus.leader."name".*}. An election that is not configured fails the build.
     */
    @Nonbinding
    String election() default LeaderElection.DEFAULT_NAME;
}
