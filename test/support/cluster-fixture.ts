// A real cluster for an end-to-end test file: real processes from dist/, real gRPC on
// loopback, the real Redis at REDIS_URL under a key prefix of the test's own.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { KeySchema, OwnerRegistry, unlinkMatching } from '#redis-mq';
import { blockingConnection, readRedisClusterNodes } from '#service-kit';
import { readClientSecurity } from '#grpc-auth';
import { Cluster, type ClusterOptions } from '../../tools/cluster/cluster';
import { RedisCluster } from '../../tools/cluster/redis-cluster';
import { SERVICE_LINES_KEY } from './service-lines';
import { BlockDeviceClient, Completion, Submission, SubmitBatch, CompletionBatch } from '#proto/grpc/blk/v1/block_device';
import { GenDiskClient, type Disk, type DiskAttributes } from '#proto/grpc/blk/v1/gen_disk';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/**
 * Where this test file's clusters keep their state: `'redis'` (the one Redis at REDIS_URL)
 * or `'redis-cluster'` (a Redis Cluster of three masters and three replicas started for
 * each `startCluster`). A file that runs another file's tests on a Redis Cluster calls
 * `useRedisCluster()` before it imports them (test/redis-cluster/).
 */
let backing: 'redis' | 'redis-cluster' = 'redis';
export function useRedisCluster(): void {
  backing = 'redis-cluster';
}
/** True once `useRedisCluster()` ran in this test file. */
export function onRedisCluster(): boolean {
  return backing === 'redis-cluster';
}

export interface Fixture {
  cluster: Cluster;
  prefix: string;
  io: BlockDeviceClient;
  disks: GenDiskClient;
  /** A connection to the cluster's Redis (an ioredis Cluster on a Redis Cluster). */
  redis: Redis;
  /** The Redis Cluster the services use, when the file runs on one. */
  redisCluster?: RedisCluster;
  /** A new connection to the same Redis, for a test's own blocking reads; closed by the test. */
  connect(): Redis;
  /** The services' output lines seen so far (the newest 2,000), as `[label] line`. */
  lines(): string[];
  stop(): Promise<void>;
}

/** Starts a cluster under a fresh key prefix; `stop()` ends it and deletes its keys. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Fixture> {
  const prefix = `e2e-${randomBytes(4).toString('hex')}:`;
  const lines: string[] = [];
  const redisCluster = backing === 'redis-cluster' && !opts.redisUrl ? await new RedisCluster().start() : undefined;
  const cluster = new Cluster({
    redisUrl: REDIS_URL,
    keyPrefix: prefix,
    ephemeralPorts: true,
    out: (label, line) => {
      lines.push(`[${label}] ${line}`);
      if (lines.length > 2000) lines.shift();
      if (process.env.E2E_VERBOSE) process.stderr.write(`[${label}] ${line}\n`);
    },
    ...(redisCluster ? { redisClusterNodes: redisCluster.seedList } : {}),
    ...opts,
  });
  const running = serviceLineRegistry();
  running.set(prefix, () => [...lines]);
  try {
    await cluster.start();
  } catch (err) {
    running.delete(prefix);
    await cluster.stop();
    await redisCluster?.stop();
    throw new Error(`${(err as Error).message}\n${lines.slice(-40).join('\n')}`);
  }
  // The fixture's clients use the cluster's own GRPC_TLS_CERTIFICATES and RNULL_TOKEN, if given.
  const security = readClientSecurity(opts.env ?? {});
  const opt = security.channelOptions({ 'grpc.max_receive_message_length': -1 });
  const io = new BlockDeviceClient(cluster.dispatchAddress, security.credentials, opt);
  const disks = new GenDiskClient(cluster.dispatchAddress, security.credentials, opt);
  const connect = () => {
    if (!redisCluster) return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const r = blockingConnection({ redisUrl: REDIS_URL, redisClusterNodes: readRedisClusterNodes(redisCluster.seedList) }, `e2e-${prefix}`);
    r.on('error', () => undefined);
    return r;
  };
  const redis = redisCluster ? connect() : new Redis(REDIS_URL);
  return {
    cluster,
    prefix,
    io,
    disks,
    redis,
    redisCluster,
    connect,
    lines: () => [...lines],
    async stop() {
      running.delete(prefix);
      io.close();
      disks.close();
      await cluster.stop();
      if (redisCluster) {
        redis.disconnect();
        await redisCluster.stop();
        return;
      }
      await deleteKeys(redis, `${prefix}*`);
      await redis.quit();
    },
  };
}

/**
 * The line buffers of this file's running clusters, by key prefix, where the e2e jest
 * environment finds them when a test fails (`SERVICE_LINES_KEY` of e2e-environment.ts).
 */
function serviceLineRegistry(): Map<string, () => string[]> {
  const g = globalThis as Record<string, unknown>;
  g[SERVICE_LINES_KEY] ??= new Map<string, () => string[]>();
  return g[SERVICE_LINES_KEY] as Map<string, () => string[]>;
}

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  await unlinkMatching(redis, pattern);
}

type Cb<T> = (e: grpc.ServiceError | null, r: T) => void;
export function unary<Req, Res>(client: object, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    (client as Record<string, (r: Req, cb: Cb<Res>) => void>)[method].call(client, req, (e: grpc.ServiceError | null, r: Res) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

/** The gRPC status code a call failed with (throws if it succeeded). */
export async function failureCode(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error('call succeeded, expected a failure');
}

export function createDisk(f: Fixture, name: string, attributes: DiskAttributes, power = true): Promise<Disk> {
  return unary(f.disks, 'createDisk', { name, attributes, power });
}

export function submit(f: Fixture, s: Partial<Submission>): Promise<Completion> {
  return unary(f.io, 'submit', Submission.fromPartial(s));
}

/**
 * Runs `subs` over one SubmitStream, `perMessage` submissions per stream message, and
 * resolves with every completion by tag.
 */
export function streamAll(f: Fixture, subs: Submission[], perMessage = 16): Promise<Map<bigint, Completion>> {
  return new Promise((resolve, reject) => {
    const call = f.io.submitStream();
    const got = new Map<bigint, Completion>();
    call.on('data', (b: CompletionBatch) => {
      for (const c of b.completions) got.set(c.tag, c);
      if (got.size === subs.length) call.end();
    });
    call.on('error', reject);
    call.on('end', () => resolve(got));
    for (let i = 0; i < subs.length; i += perMessage) call.write(SubmitBatch.fromPartial({ submissions: subs.slice(i, i + perMessage) }));
    if (subs.length === 0) call.end();
  });
}

/** Polls `check` until it returns true or `ms` passes; returns the last result. */
/** Tags of `disk` held by any dispatch instance, as the shared Redis budget counts them. */
export async function tagsHeld(f: Fixture, disk: string): Promise<number> {
  const budget = await new OwnerRegistry(f.redis, new KeySchema(f.prefix)).budget(disk);
  return budget.reduce((n, b) => n + b.used, 0);
}

/** The service whose processes run the rnull driver: dispatch with local placement, rnull with remote. */
export function driverService(placement: 'local' | 'remote'): 'dispatch' | 'rnull' {
  return placement === 'local' ? 'dispatch' : 'rnull';
}

/**
 * Every series of metric `name` whose labels include all of `labels`, summed over the
 * processes of `service` (each scraped on its /metrics).
 */
export async function metricSum(f: Fixture, service: string, name: string, labels: Readonly<Record<string, string>>): Promise<number> {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const p of f.cluster.processes.filter((x) => x.spec.service === service)) {
    const { http } = await p.ready;
    const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
      const have = m[1].split(',');
      if (wanted.every((w) => have.includes(w))) sum += Number(m[2]);
    }
  }
  return sum;
}

export async function eventually(check: () => Promise<boolean>, ms = 20_000, every = 100): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, every));
  }
}
