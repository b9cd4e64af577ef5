// Mirrors the blk-mq core of one dispatch instance: a request queue per powered disk,
// following the disk registry, with `submit` as `submit_bio` for the client APIs.
import type { Redis } from 'ioredis';
import { BlkStatus, ReqOp } from '#blk-mq';
import { type KeySchema, RedisRequestTable } from '#redis-mq';
import { UnavailableError } from '../cluster-errors';
import { KeyedSerial } from '../keyed-serial';
import type { DiskDirectory } from '../disk-directory';
import type { DiskRecord } from '../disk-record';
import type { Telemetry } from '../service-logger';
import { DiskQueue } from './disk-queue';
import { PendingBio, splitToRequests } from './io-request';
import { NoticeRouter } from './notice-router';
import { type CheckedSubmission, checkSubmission, type WireSubmission } from './submission-check';
import { TimeoutHandler } from './timeout-handler';

export interface BioResult {
  status: BlkStatus;
  data?: Buffer;
  message: string;
  latencyNs: bigint;
}

/**
 * Invariants:
 *   - A disk has a DiskQueue here from its first power-on until it is deleted or its tag
 *     space is reshaped (only when idle): powering off refuses new IO (submission check)
 *     while requests in flight still end through the same queue.
 *   - `submit` either throws (the submission never entered the block layer: bad input,
 *     unknown or powered-off disk) or resolves once, after every request of it ended.
 */
export class BlockLayer {
  private readonly queues = new Map<string, DiskQueue>();
  private readonly opening = new KeyedSerial();
  private readonly router: NoticeRouter;
  readonly timeouts: TimeoutHandler;
  private rr = 0;

  constructor(
    private readonly redis: Redis,
    blocking: Redis,
    private readonly keys: KeySchema,
    private readonly directory: DiskDirectory,
    private readonly instanceId: string,
    timeoutScanMs: number,
    private readonly tel: Telemetry = {},
  ) {
    this.router = new NoticeRouter(
      blocking,
      keys,
      instanceId,
      () => [...this.queues.values()],
      (disk) => this.queues.get(disk),
    );
    this.timeouts = new TimeoutHandler(timeoutScanMs, () => this.everyQueue(), tel);
    tel.metrics?.watchTags(() =>
      [...this.queues.values()].flatMap((q) => q.tagsInUse().map((value, hctx) => ({ labels: { disk: q.name, hctx }, value }))),
    );
    tel.metrics?.watchInFlight(() => [...this.queues.values()].map((q) => ({ labels: { disk: q.name }, value: q.inFlight })));
    tel.metrics?.watchQueues(() => [...this.queues.values()].flatMap((q) => q.hctxQueues));
  }

  async start(): Promise<void> {
    this.directory.on('change', (name, record) => void this.follow(name, record));
    await Promise.all(this.directory.all().map((r) => this.follow(r.name, r)));
    this.router.start();
    this.timeouts.start();
  }

  /** Requests that this instance holds or waits to dispatch. */
  get inFlight(): number {
    let n = 0;
    for (const q of this.everyQueue()) n += q.inFlight;
    return n;
  }

  /** The current queues and the predecessors that still hold requests (timeouts, drain). */
  private everyQueue(): DiskQueue[] {
    const out: DiskQueue[] = [];
    for (const q of this.queues.values()) {
      for (let p: DiskQueue | undefined = q; p; p = p.predecessor) if (p === q || p.inFlight > 0) out.push(p);
    }
    return out;
  }

  diskQueue(name: string): DiskQueue | undefined {
    return this.queues.get(name);
  }

  /**
   * `submit_bio`: checks `s`, splits it to `max_sectors`, plugs its requests on an hctx
   * (`mapQueues`: `cpu`, or round robin when undefined) and resolves when it ended.
   */
  submit(s: WireSubmission, cpu?: number): Promise<BioResult> {
    if (this.redis.status !== 'ready') throw new UnavailableError(`redis unavailable (${this.redis.status}); retry shortly`);
    const known = this.directory.get(s.disk);
    const q = this.queues.get(s.disk);
    if (known?.power && q) return this.enqueue(q, checkSubmission(s, known), cpu);
    return this.submitSlow(s, cpu);
  }

  /**
   * The disk is unknown, off or not open here yet: the registry event may still be on its
   * way (a client that just created or powered the disk), so read the record and wait for
   * the queue to open before answering NOT_FOUND / UNAVAILABLE.
   */
  private async submitSlow(s: WireSubmission, cpu?: number): Promise<BioResult> {
    const record = s.disk ? await this.directory.reloadOne(s.disk) : undefined;
    const checked = checkSubmission(s, record);
    await this.follow(checked.disk.name, record);
    const q = this.queues.get(checked.disk.name);
    if (!q) throw new UnavailableError(`disk ${JSON.stringify(s.disk)} has no tag space yet`);
    return this.enqueue(q, checked, cpu);
  }

  private enqueue(q: DiskQueue, checked: CheckedSubmission, cpu?: number): Promise<BioResult> {
    if (checked.op === ReqOp.DISCARD && !checked.disk.attributes.discard) {
      return Promise.resolve({ status: BlkStatus.NOTSUPP, message: 'discard: not enabled on this disk (discard=0)', latencyNs: 0n });
    }
    return new Promise((resolve) => {
      const bio = new PendingBio(checked.op, checked.bytes, (status, data, message, latencyNs) =>
        resolve({ status, data, message, latencyNs }),
      );
      const rqs = splitToRequests(bio, checked.op, checked.sector, checked.bytes, checked.flags, checked.data, q.maxRequestBytes);
      const hctx = (cpu ?? this.rr++) % q.nrHwQueues;
      q.submit(hctx, rqs);
    });
  }

  /** Opens, reshapes or closes the disk's queue after a registry change. */
  private async follow(name: string, record: DiskRecord | undefined): Promise<void> {
    // A failure (Redis away) leaves the queue as it was; the next event or submission retries.
    await this.opening.run(name, () => this.reconcile(name, record)).catch(() => undefined);
  }

  private async reconcile(name: string, record: DiskRecord | undefined): Promise<void> {
    const current = this.queues.get(name);
    const want = record;
    if (current && want && sameShape(current.record, want)) {
      // Attribute change that leaves the tag space alone: keep the queue, new limits.
      current.record = want;
      return;
    }
    // A queue that still holds requests lives on as the new one's predecessor until they end.
    const retiring = current && current.inFlight > 0 ? current : undefined;
    if (current) {
      this.queues.delete(name);
      if (!retiring) await current.close();
    }
    if (want) {
      let table: RedisRequestTable;
      try {
        table = await RedisRequestTable.open(this.redis, name, { keys: this.keys });
      } catch {
        if (retiring) this.queues.set(name, retiring);
        return; // Never powered on: no tag space yet.
      }
      const q = new DiskQueue(want, table, this.redis, this.keys, this.instanceId, this.tel);
      q.predecessor = retiring;
      this.queues.set(name, q);
    }
  }

  /** Waits until no request of this instance is in flight, or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.inFlight === 0;
  }

  async stop(): Promise<void> {
    this.timeouts.stop();
    await this.router.stop();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

function sameShape(a: DiskRecord, b: DiskRecord): boolean {
  const x = a.attributes;
  const y = b.attributes;
  return x.submitQueues === y.submitQueues && x.hwQueueDepth === y.hwQueueDepth && x.sharedTags === y.sharedTags && x.recycle === y.recycle;
}
