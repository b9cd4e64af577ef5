// The Redis processes of a bench run, read from a Redis Cluster's `CLUSTER NODES`: each
// live node's address, so the harness can read INFO from every one (its role it asks of
// the node itself, INFO replication: the seed's view can lag behind a just-attached replica).
//
// Contract: `parseClusterNodes` is pure; it keeps every node that is not failed or in
// handshake, and throws on text that is not CLUSTER NODES output.
import type { Redis } from 'ioredis';

/** One Redis process and the connection INFO is read on. */
export interface RedisProcess {
  readonly host: string;
  readonly port: number;
  readonly replica: boolean;
  readonly conn: Redis;
}

export type RedisNodeEntry = Pick<RedisProcess, 'host' | 'port'>;

/**
 * The live nodes of `CLUSTER NODES` text: `<id> <ip:port@cport[,hostname]> <flags> …` per
 * line; nodes flagged `fail`, `handshake` or `noaddr` are left out.
 */
export function parseClusterNodes(text: string): RedisNodeEntry[] {
  const out: RedisNodeEntry[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line) continue;
    const [, address, flagText] = line.split(' ');
    const m = /^(.*):(\d+)@\d+/.exec(address ?? '');
    if (!m || flagText === undefined) throw new Error(`not a CLUSTER NODES line: ${line.slice(0, 80)}`);
    const flags = flagText.split(',');
    if (flags.some((f) => f === 'fail' || f === 'handshake' || f === 'noaddr')) continue;
    out.push({ host: m[1] || '127.0.0.1', port: Number(m[2]) });
  }
  if (out.length === 0) throw new Error('CLUSTER NODES lists no live node');
  return out;
}
