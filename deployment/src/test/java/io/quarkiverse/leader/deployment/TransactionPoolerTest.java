package io.quarkiverse.leader.deployment;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.leader.LeaderElection;
import io.quarkiverse.leader.test.PgBouncer;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Behind PgBouncer in transaction mode (2 server connections), the election refuses to lead, takes no lock on the
 * server, and logs the cause and the fix.
 */
@EnabledIf(value = "io.quarkiverse.leader.test.PgBouncer#installed", disabledReason = PgBouncer.MISSING)
class TransactionPoolerTest {

    @RegisterExtension
    static final QuarkusUnitTest TEST = PooledElection.create(PgBouncer.of("transaction", 2));

    @Inject
    LeaderElection election;

    @Test
    void refusesToLead() {
        PooledElection.assertRefused(election);
    }
}
