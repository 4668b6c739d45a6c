package io.quarkiverse.leader.it;

import io.quarkus.test.junit.QuarkusIntegrationTest;

@QuarkusIntegrationTest
class LeaderResourceIT extends LeaderResourceTest {
}
