// A seeded random walk of ~2,000 batched table ops per configuration, run on the Redis
// table and, step by step, on a model built from request-state.ts (`applyOp`, the one
// definition of every transition). Any difference fails with the step that caused it.
import * as fc from 'fast-check';
import {
  BlkStatus,
  OpResult,
  RqState,
  allocSlot,
  applyOp,
  newSlot,
  viewOf,
  type RequestToken,
  type SlotRecord,
  type SlotView,
  type TableOp,
  type TagSpaceConfig,
} from '#blk-mq';
import { RedisRequestTable } from './redis-request-table';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('table-model');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const BASE_MS = 1_700_000_000_000;

/** The request table as request-state.ts defines it, with Redis's lowest-free-first alloc. */
class ModelTable {
  readonly slots: SlotRecord[][];
  readonly counters = { allocated: 0, recycled: 0, allocShort: 0, staleRejected: 0, doubleEnds: 0, badState: 0, noReference: 0 };

  constructor(readonly config: TagSpaceConfig) {
    const pools = config.sharedTags ? 1 : config.nrHwQueues;
    this.slots = Array.from({ length: pools }, (_, p) => Array.from({ length: config.queueDepth }, (_, t) => newSlot(p, t)));
  }

  slotOf(hctx: number, tag: number): SlotRecord | undefined {
    if (!Number.isInteger(hctx) || hctx < 0 || hctx >= this.config.nrHwQueues) return undefined;
    return this.slots[this.config.sharedTags ? 0 : hctx][tag];
  }

  alloc(hctx: number, count: number): RequestToken[] {
    const pool = this.slots[this.config.sharedTags ? 0 : hctx];
    const free = pool.filter((s) => s.state === RqState.Idle);
    if (free.length < count) this.counters.allocShort += 1;
    const out = free.slice(0, count).map((s) => allocSlot(s, hctx));
    this.counters.allocated += out.length;
    return out;
  }

  apply(ops: readonly TableOp[]): OpResult[] {
    return ops.map((op) => {
      const s = this.slotOf(op.token.hctx, op.token.tag);
      const r = s ? applyOp(s, op, this.config.recycle) : OpResult.Stale;
      if (r === OpResult.Recycled) this.counters.recycled += 1;
      if (r === OpResult.Stale) this.counters.staleRejected += 1;
      if (r === OpResult.AlreadyComplete) this.counters.doubleEnds += 1;
      if (r === OpResult.BadState) this.counters.badState += 1;
      if (r === OpResult.NoReference) this.counters.noReference += 1;
      return r;
    });
  }

  busy(): SlotView[] {
    return this.slots.flat().filter((s) => s.state !== RqState.Idle).map((s) => ({ ...viewOf(s) }));
  }

  expired(nowMs: number): SlotRecord[] {
    return this.slots
      .flat()
      .filter((s) => s.state === RqState.InFlight && s.deadlineMs <= nowMs)
      .sort((a, b) => a.deadlineMs - b.deadlineMs);
  }
}

const byPlace = (a: SlotView, b: SlotView) => a.tag - b.tag || a.hctx - b.hctx;

/** Abstract steps; tokens are picked from those issued so far when the step runs. */
const stepArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('alloc' as const), hctx: fc.nat(7), count: fc.nat(5) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      ops: fc.array(
        fc.record({
          op: fc.constantFrom('start', 'start', 'end', 'end', 'drop', 'drop', 'ref', 'requeue'),
          pick: fc.nat(1000),
          recent: fc.boolean(),
          corrupt: fc.constantFrom('none', 'none', 'none', 'none', 'none', 'none', 'gen', 'hctx', 'tag'),
          deadline: fc.integer({ min: 0, max: 400 }),
          half: fc.boolean(),
          status: fc.constantFrom(BlkStatus.OK, BlkStatus.IOERR, BlkStatus.TIMEOUT),
          drop: fc.boolean(),
        }),
        { minLength: 1, maxLength: 14 },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expired' as const), now: fc.integer({ min: 0, max: 400 }), limit: fc.nat(6) }) },
);

const CONFIGS: [string, TagSpaceConfig][] = [
  ['per-hctx, on-drop', { nrHwQueues: 3, queueDepth: 6, sharedTags: false, recycle: 'on-drop' }],
  ['per-hctx, inline', { nrHwQueues: 3, queueDepth: 6, sharedTags: false, recycle: 'inline' }],
  ['shared, on-drop', { nrHwQueues: 4, queueDepth: 8, sharedTags: true, recycle: 'on-drop' }],
  ['shared, inline', { nrHwQueues: 4, queueDepth: 8, sharedTags: true, recycle: 'inline' }],
];

describe.each(CONFIGS)('RedisRequestTable vs the request-state model (%s)', (_name, config) => {
  it('agrees on every result, slot and counter over a seeded random walk', async () => {
    const seed = 0x5eed + config.queueDepth + (config.recycle === 'inline' ? 1 : 0);
    const [steps] = fc.sample(fc.array(stepArb, { minLength: 560, maxLength: 560 }), { seed, numRuns: 1 });
    const redis = await RedisRequestTable.create(env.redis, 'rnullb7', config, { keys: env.keys() });
    const model = new ModelTable(config);
    const issued: RequestToken[] = [];
    let ops = 0;

    for (const [i, step] of steps.entries()) {
      const where = `step ${i} (${step.kind})`;
      if (step.kind === 'alloc') {
        const hctx = step.hctx % config.nrHwQueues;
        const got = await redis.alloc(hctx, step.count);
        expect({ where, got }).toEqual({ where, got: model.alloc(hctx, step.count) });
        issued.push(...got);
        ops += 1;
      } else if (step.kind === 'batch') {
        if (issued.length === 0) continue;
        const batch: TableOp[] = step.ops.map((o) => {
          const n = issued.length;
          const base = issued[o.recent ? n - 1 - (o.pick % Math.min(n, 8)) : o.pick % n];
          const token =
            o.corrupt === 'gen' ? { ...base, gen: base.gen + 1 }
            : o.corrupt === 'hctx' ? { ...base, hctx: (base.hctx + 1) % (config.nrHwQueues + 1) }
            : o.corrupt === 'tag' ? { ...base, tag: base.tag + config.queueDepth }
            : base;
          if (o.op === 'start') return { op: 'start', token, deadlineMs: BASE_MS + o.deadline + (o.half ? 0.5 : 0) };
          if (o.op === 'end') return { op: 'end', token, status: o.status, drop: o.drop };
          return { op: o.op as 'drop' | 'ref' | 'requeue', token };
        });
        const got = await redis.apply(batch);
        expect({ where, got }).toEqual({ where, got: model.apply(batch) });
        ops += batch.length;
      } else {
        const now = BASE_MS + step.now;
        const want = model.expired(now);
        const got = await redis.expired(now, step.limit);
        expect({ where, n: got.length }).toEqual({ where, n: Math.min(step.limit, want.length) });
        const deadlines = got.map((t) => model.slotOf(t.hctx, t.tag)!);
        expect({ where, d: deadlines.map((s) => [s.gen, s.deadlineMs]) }).toEqual({
          where,
          d: got.map((t, k) => [t.gen, want[k].deadlineMs]),
        });
        ops += 1;
      }
      const busy = (await redis.busy()).sort(byPlace);
      expect({ where, busy }).toEqual({ where, busy: model.busy().sort(byPlace) });
    }

    const { dropEnded: _ignored, ...counters } = await redis.counters();
    expect(counters).toEqual(model.counters);
    for (const s of model.slots.flat()) {
      expect(await redis.slot(s.hctx, s.tag)).toEqual({ ...viewOf(s) });
    }
    expect(ops).toBeGreaterThanOrEqual(2000);
  });
});
