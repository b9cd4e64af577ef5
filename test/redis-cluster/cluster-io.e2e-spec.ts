// test/cluster-io.e2e-spec.ts with every key on a real Redis Cluster (3 masters, 3 replicas):
// the same tests, run on the store that spreads disks over shards (DESIGN I7).
import '../support/on-redis-cluster';
import '../cluster-io.e2e-spec';
import { onRedisCluster } from '../support/cluster-fixture';

// The import above registered the suite's tests; they start their clusters on a Redis Cluster.
it('runs the suite on a Redis Cluster', () => {
  expect(onRedisCluster()).toBe(true);
});
