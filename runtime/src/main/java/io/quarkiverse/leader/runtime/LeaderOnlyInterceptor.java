package io.quarkiverse.leader.runtime;

import java.lang.reflect.Method;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.interceptor.AroundInvoke;
import jakarta.interceptor.Interceptor;
import jakarta.interceptor.InvocationContext;

import org.jboss.logging.Logger;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.LeaderOnly;
import io.quarkiverse.leader.NotLeaderException;
import io.quarkus.arc.ArcInvocationContext;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * Lets {@link LeaderOnly} methods through on the leader only.
 */
@LeaderOnly
@Interceptor
@Priority(Interceptor.Priority.PLATFORM_BEFORE)
public class LeaderOnlyInterceptor {

    private static final Logger LOG = Logger.getLogger(LeaderOnlyInterceptor.class);

    @Inject
    LeaderElections elections;

    @AroundInvoke
    Object leaderOnly(InvocationContext context) throws Exception {
        LeaderOnly binding = ArcInvocationContext.findIterceptorBinding(context, LeaderOnly.class);
        LeaderElection election = elections.election(binding == null ? LeaderElection.DEFAULT_NAME : binding.election());
        if (election.isLeader()) {
            return context.proceed();
        }
        Method method = context.getMethod();
        if (binding == null || binding.skip()) {
            Class<?> returnType = method.getReturnType();
            if (returnType == void.class) {
                LOG.debugf("Skipped %s#%s: this instance does not lead", method.getDeclaringClass().getName(),
                        method.getName());
                return null;
            }
            if (returnType == Uni.class) {
                return Uni.createFrom().nullItem();
            }
            if (returnType == Multi.class) {
                return Multi.createFrom().empty();
            }
            if (returnType == CompletionStage.class || returnType == CompletableFuture.class) {
                return CompletableFuture.completedFuture(null);
            }
        }
        throw new NotLeaderException(method.getDeclaringClass().getName() + "#" + method.getName()
                + " runs on the leader only, and instance " + election.instanceId() + " does not lead"
                + (LeaderElection.DEFAULT_NAME.equals(election.name()) ? "" : " election '" + election.name() + "'"));
    }
}
