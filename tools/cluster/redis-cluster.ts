// A real Redis Cluster on loopback for the tests, the bench and `npm start -- --redis-cluster`:
// `redis-server --cluster-enabled yes` processes joined by `redis-cli --cluster create`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './private-redis';
import { redisServerLaunch, type RedisHugePages } from './redis-server-options';

export interface RedisClusterOptions {
  /** Masters (hash-slot shards), default 3. */
  masters?: number;
  /** Replicas of each master, default 1. */
  replicasPerMaster?: number;
  /** `cluster-node-timeout`, ms: how soon a dead master's replica is promoted. Default 2000. */
  nodeTimeoutMs?: number;
  /** Picks a port for a new node (client and bus port alike); default a free loopback port. */
  pickPort?: () => Promise<number>;
  /** Whether the nodes use huge pages (redis-server-options.ts); default 'on'. */
  hugePages?: RedisHugePages;
}

/** One `redis-server` of the cluster. */
export interface RedisClusterNode {
  readonly port: number;
  readonly busPort: number;
  readonly child: ChildProcess;
}

/** How long a started redis-server may take to answer PING, ms. */
const ANSWER_WAIT_MS = 10_000;
/** How often a node whose start failed (a picked port was taken meanwhile) is started on fresh ports. */
const NODE_START_TRIES = 3;
/** How long the cluster may take to agree on its slots after `--cluster create`, ms. */
const SETTLE_MS = 30_000;

/**
 * Invariants:
 *   - Every node listens on 127.0.0.1 only, with a client port and a bus port both picked
 *     free (so nothing else on the machine is touched), and keeps nothing on disk after `stop()`.
 *   - `start()` resolves only when every node reports `cluster_state:ok`.
 */
export class RedisCluster {
  readonly nodes: RedisClusterNode[] = [];
  private dir = '';

  constructor(private readonly opts: RedisClusterOptions = {}) {}

  /** The seed list in `REDIS_CLUSTER_NODES` form: `127.0.0.1:p1,127.0.0.1:p2,…`. */
  get seedList(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  async start(): Promise<this> {
    const which = spawnSync('sh', ['-c', 'command -v redis-server && command -v redis-cli'], { encoding: 'utf8' });
    if (which.status !== 0)
      throw new Error('a Redis Cluster needs redis-server and redis-cli on the PATH (Debian: apt-get install redis-server)');
    const masters = this.opts.masters ?? 3;
    const replicas = this.opts.replicasPerMaster ?? 1;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-redis-cluster-'));
    try {
      for (let i = 0; i < masters * (1 + replicas); i++) await this.startFreshNode();
      const create = spawnSync(
        'redis-cli',
        ['--cluster', 'create', ...this.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
        { encoding: 'utf8', timeout: SETTLE_MS },
      );
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
      await this.waitStateOk();
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this;
  }

  /**
   * Starts one more node on free ports and waits until it answers. A port found free can be
   * taken by another socket before redis-server binds it (the server then exits): such a
   * node is dropped and started again on fresh ports, up to NODE_START_TRIES times.
   */
  private async startFreshNode(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.startNode();
      const node = this.nodes[this.nodes.length - 1];
      if (await answers(node)) return;
      this.nodes.pop();
      node.child.kill('SIGKILL');
      if (attempt >= NODE_START_TRIES) {
        const log = path.join(this.dir, String(node.port), 'redis.log');
        throw new Error(
          `redis-server on 127.0.0.1:${node.port} (bus ${node.busPort}) did not answer, ${attempt} times on fresh ports; see ${log}`,
        );
      }
    }
  }

  private async startNode(again?: { port: number; busPort: number }): Promise<void> {
    const pick = this.opts.pickPort ?? freePort;
    const port = again?.port ?? (await pick());
    const busPort = again?.busPort ?? (await pick());
    const nodeDir = path.join(this.dir, String(port));
    fs.mkdirSync(nodeDir, { recursive: true });
    const launch = redisServerLaunch(this.opts.hugePages);
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(this.opts.nodeTimeoutMs ?? 2000),
        // A replica syncs at once (a diskless sync waits 5 s for more replicas first).
        '--repl-diskless-sync',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        nodeDir,
        '--logfile',
        'redis.log',
        ...launch.args,
      ],
      { stdio: 'ignore', env: launch.env },
    );
    const node = { port, busPort, child };
    const at = this.nodes.findIndex((n) => n.port === port);
    if (at >= 0) this.nodes[at] = node;
    else this.nodes.push(node);
  }

  /**
   * Starts the node on `port` again after `kill`, from its own cluster config: it rejoins,
   * as a replica of whichever node took over its slots. Resolves once the cluster is ok.
   */
  async restart(port: number): Promise<void> {
    const n = this.nodes.find((x) => x.port === port);
    if (!n) throw new Error(`no node on port ${port}`);
    if (n.child.exitCode === null && n.child.signalCode === null) return;
    await this.startNode({ port, busPort: n.busPort });
    if (!(await answers(this.nodes.find((x) => x.port === port)!)))
      throw new Error(`redis-server on port ${port} does not answer after a restart`);
    await this.waitStateOk();
  }

  /**
   * Resolves when every live node says `cluster_state:ok` and every live node that serves
   * no slots is an online replica of a master that does (so a node started again after
   * `kill` has rejoined as a replica before this resolves).
   */
  async waitStateOk(timeoutMs = SETTLE_MS): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      const live = this.live();
      const states = await Promise.all(
        live.map((n) => command(n.port, ['CLUSTER', 'INFO']).then((info) => /cluster_state:ok/.test(String(info)))),
      );
      let masters: number[] = [];
      try {
        masters = (await this.masters()).map((m) => m.port);
      } catch {
        // No node answered CLUSTER SLOTS yet.
      }
      const infos = await Promise.all(masters.map((port) => command(port, ['INFO', 'REPLICATION']).then(String)));
      const online = infos.reduce((n, i) => n + (i.match(/^slave\d+:.*state=online/gm)?.length ?? 0), 0);
      const replicas = live.length - masters.length;
      if (masters.length > 0 && states.every(Boolean) && online === replicas) return;
      last = `${states.filter(Boolean).length} of ${states.length} nodes ok, ${online} of ${replicas} replicas online`;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Redis Cluster not ok after ${timeoutMs} ms: ${last}`);
  }

  /** The live nodes. */
  live(): RedisClusterNode[] {
    return this.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  }

  /** Ports of the live masters, and which slots each serves (`CLUSTER SHARDS` view of one node). */
  async masters(): Promise<{ port: number; slots: [number, number][] }[]> {
    const reply = (await command(this.live()[0].port, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number, string]][];
    const byPort = new Map<number, [number, number][]>();
    for (const [from, to, [, port]] of reply) byPort.set(port, [...(byPort.get(port) ?? []), [from, to]]);
    return [...byPort].map(([port, slots]) => ({ port, slots }));
  }

  /** The port of the master serving `slot`. */
  async masterOf(slot: number): Promise<number> {
    const m = (await this.masters()).find((x) => x.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!m) throw new Error(`no master serves slot ${slot}`);
    return m.port;
  }

  /** SIGKILLs the node on `port` (a failover test's dead master). */
  async kill(port: number): Promise<void> {
    const n = this.nodes.find((x) => x.port === port);
    if (!n || n.child.exitCode !== null || n.child.signalCode !== null) return;
    const exited = new Promise((r) => n.child.once('exit', r));
    n.child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(
        (n) =>
          new Promise<void>((resolve) => {
            if (n.child.exitCode !== null || n.child.signalCode !== null) return resolve();
            n.child.once('exit', () => resolve());
            n.child.kill('SIGKILL');
          }),
      ),
    );
    // REDIS_CLUSTER_KEEP=1 keeps each node's folder (its redis.log) for a look afterwards.
    if (this.dir && !process.env.REDIS_CLUSTER_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One command to one node, on a short-lived plain connection; undefined when it does not answer. */
async function command(port: number, args: string[]): Promise<unknown> {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
    // Whatever else holds the port may accept and never answer.
    commandTimeout: 1000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.call(args[0], ...args.slice(1));
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

/** Whether `node` answers PING within ANSWER_WAIT_MS; false at once when its process ended. */
async function answers(node: RedisClusterNode): Promise<boolean> {
  const until = Date.now() + ANSWER_WAIT_MS;
  while (Date.now() < until) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) return false;
    if ((await command(node.port, ['PING'])) === 'PONG') return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
