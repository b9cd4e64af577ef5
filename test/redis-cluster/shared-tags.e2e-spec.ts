// test/shared-tags.e2e-spec.ts with every key on a real Redis Cluster (3 masters, 3
// replicas): the shared tag set in its own hash slot, the disks in theirs, and no script
// touching two (DESIGN I7, I15).
import '../support/on-redis-cluster';
import '../shared-tags.e2e-spec';
import { onRedisCluster } from '../support/cluster-fixture';

// The import above registered the suite's tests; they start their clusters on a Redis Cluster.
it('runs the suite on a Redis Cluster', () => {
  expect(onRedisCluster()).toBe(true);
});
