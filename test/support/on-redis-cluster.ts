// Imported first by the files of test/redis-cluster/: the suites they import next start
// their clusters on a Redis Cluster of three masters and three replicas (cluster-fixture).
import { useRedisCluster } from './cluster-fixture';

useRedisCluster();
