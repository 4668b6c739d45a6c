package io.quarkiverse.leader.test;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.quarkus.deployment.IsDockerWorking;
import io.quarkus.deployment.IsPodmanWorking;

/**
 * Runs a test class only where Dev Services can start a container (Quarkus' own check for Docker or Podman), and
 * prints why it is skipped where none works, so that a skip is never silent.
 */
public final class ContainerRuntime implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (new IsDockerWorking(true).getAsBoolean() || new IsPodmanWorking(true).getAsBoolean()) {
            return ConditionEvaluationResult.enabled("a container runtime works: Dev Services can start PostgreSQL");
        }
        String reason = "Skipped " + context.getDisplayName() + ": no working container runtime (neither Docker nor"
                + " Podman answers), so Dev Services cannot start PostgreSQL here";
        System.err.println("[WARNING] " + reason); // surefire keeps the reason only in its XML report
        return ConditionEvaluationResult.disabled(reason);
    }
}
