// test/stale-completion.e2e-spec.ts with every key on a real Redis Cluster (3 masters, 3 replicas):
// the same tests, run on the store that spreads disks over shards (DESIGN I7).
import '../support/on-redis-cluster';
import '../stale-completion.e2e-spec';
