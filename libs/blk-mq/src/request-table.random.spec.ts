// Randomized interleavings of alloc / start / end / ref / drop / requeue / stale end /
// timeout against InProcRequestTable, checked after every step against a simple model and
// DESIGN invariants 1-3. fast-check prints the seed and path of any failure; rerun one with
// BLKMQ_SEED=<seed> (and BLKMQ_PATH=<path>).

import fc from 'fast-check';
import { BlkStatus } from './blk-status';
import { InProcRequestTable } from './inproc-request-table';
import { OpResult, RecycleMode, RequestToken, RqState, TableOp, TagSpaceConfig } from './request-table';

const RUNS = 10_000;
const { Ok, AlreadyStarted, Recycled, Stale, AlreadyComplete, BadState, NoReference } = OpResult;

type Pick = { k: 'start' | 'end' | 'ref' | 'drop' | 'requeue'; pick: number; status: number; drop: boolean; dl: number };
type Action =
  | { k: 'alloc'; hctx: number; count: number }
  | { k: 'one'; op: Pick }
  | { k: 'batch'; ops: Pick[] }
  | { k: 'staleEnd'; pick: number; drop: boolean }
  | { k: 'timeout'; advance: number };

const pickArb: fc.Arbitrary<Pick> = fc.record({
  k: fc.constantFrom('start', 'end', 'ref', 'drop', 'requeue'),
  pick: fc.nat(),
  status: fc.constantFrom(BlkStatus.OK, BlkStatus.IOERR, BlkStatus.MEDIUM),
  drop: fc.boolean(),
  dl: fc.integer({ min: 1, max: 40 }),
});
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('alloc' as const), hctx: fc.nat(2), count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('one' as const), op: pickArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('batch' as const), ops: fc.array(pickArb, { minLength: 2, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('staleEnd' as const), pick: fc.nat(), drop: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('timeout' as const), advance: fc.integer({ min: 0, max: 30 }) }) },
);
const cfgArb: fc.Arbitrary<TagSpaceConfig> = fc.record({
  nrHwQueues: fc.constant(3),
  queueDepth: fc.integer({ min: 1, max: 3 }),
  sharedTagBitmap: fc.boolean(),
  recycle: fc.constantFrom<RecycleMode>('on-drop', 'inline'),
});

/** The model: one record per slot, transitions written out per state, independent of request-state.ts. */
interface MSlot {
  hctx: number;
  gen: number;
  state: RqState;
  refs: number;
  status: number;
  deadline: number;
}

class Model {
  readonly pools: MSlot[][];
  constructor(readonly cfg: TagSpaceConfig) {
    const n = cfg.sharedTagBitmap ? 1 : cfg.nrHwQueues;
    this.pools = Array.from({ length: n }, (_, p) =>
      Array.from({ length: cfg.queueDepth }, () => ({ hctx: p, gen: 0, state: RqState.Idle, refs: 0, status: 0, deadline: 0 })),
    );
  }
  slot(t: { hctx: number; tag: number }): MSlot {
    return this.pools[this.cfg.sharedTagBitmap ? 0 : t.hctx][t.tag];
  }
  free(hctx: number): number {
    return this.pools[this.cfg.sharedTagBitmap ? 0 : hctx].filter((s) => s.state === RqState.Idle).length;
  }
  apply(op: TableOp): OpResult {
    const m = this.slot(op.token);
    if (m.state === RqState.Idle || m.gen !== op.token.gen || m.hctx !== op.token.hctx) return Stale;
    const idle = () => Object.assign(m, { state: RqState.Idle, refs: 0, deadline: 0 }) && Recycled;
    const put = (): OpResult => {
      if (m.refs === 0) return NoReference;
      m.refs -= 1;
      if (m.refs > 0) return Ok;
      if (m.state !== RqState.Complete) m.status = BlkStatus.IOERR;
      return idle();
    };
    const st = m.state;
    if (op.op === 'ref') return ((m.refs += 1), Ok);
    if (op.op === 'drop') return put();
    if (op.op === 'start') {
      if (st === RqState.Complete) return BadState;
      if (st === RqState.InFlight) return ((m.deadline = op.deadlineMs), AlreadyStarted);
      return Object.assign(m, { state: RqState.InFlight, refs: m.refs + 1, deadline: op.deadlineMs }) && Ok;
    }
    if (op.op === 'requeue') {
      if (st !== RqState.InFlight) return BadState;
      if (m.refs < 2) return NoReference;
      return Object.assign(m, { state: RqState.Allocated, refs: m.refs - 1, deadline: 0 }) && Ok;
    }
    if (st === RqState.Complete) return AlreadyComplete;
    Object.assign(m, { state: RqState.Complete, status: op.status, deadline: 0 });
    if (this.cfg.recycle === 'inline') return idle();
    return op.drop ? put() : Ok;
  }
}

const key = (t: RequestToken) => `${t.hctx}/${t.tag}#${t.gen}`;

/** Plain checks: jest's expect is too slow for a million calls; fast-check reports the seed. */
function ensure(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const show = (a: unknown) => JSON.stringify(a);

function run(cfg: TagSpaceConfig, actions: Action[]): void {
  const table = new InProcRequestTable('rand0', cfg);
  const model = new Model(cfg);
  const tokens: RequestToken[] = [];
  const held = new Map<string, number>();
  const ends = new Map<string, number>();
  let now = 0;
  const hold = (t: RequestToken, d: number) => held.set(key(t), (held.get(key(t)) ?? 0) + d);

  const applyBoth = (ops: TableOp[]): OpResult[] => {
    const got = table.applySync(ops);
    const want = ops.map((op) => model.apply(op));
    ensure(same(got, want), () => `apply ${show(ops)}: table ${show(got)}, model ${show(want)}`);
    ops.forEach((op, i) => account(op, got[i]));
    return got;
  };
  const account = (op: TableOp, r: OpResult) => {
    if (r < 0) return;
    const k = key(op.token);
    if (op.op === 'start' && r === Ok) hold(op.token, 1);
    if (op.op === 'ref') hold(op.token, 1);
    if (op.op === 'drop' || op.op === 'requeue' || (op.op === 'end' && op.drop)) hold(op.token, -1);
    if (op.op === 'end' || (op.op === 'drop' && r === Recycled && !ends.has(k))) ends.set(k, (ends.get(k) ?? 0) + 1);
    if (r === Recycled) held.set(k, 0);
  };
  const opOf = (p: Pick): TableOp => {
    const token = tokens[p.pick % tokens.length];
    if (p.k === 'start') return { op: 'start', token, deadlineMs: now + p.dl };
    if (p.k === 'end') return { op: 'end', token, status: p.status, drop: p.drop };
    return { op: p.k, token };
  };

  const check = () => {
    for (let p = 0; p < model.pools.length; p++) {
      for (let tag = 0; tag < cfg.queueDepth; tag++) {
        const m = model.pools[p][tag];
        const s = table.slotSync(p, tag);
        ensure(s.gen === m.gen && s.state === m.state && s.refs === m.refs, () => `slot ${p}/${tag}: table ${show(s)}, model ${show(m)}`);
        ensure(s.state !== RqState.InFlight || s.deadlineMs === m.deadline, () => `deadline ${p}/${tag}: ${s.deadlineMs} != ${m.deadline}`);
        ensure(s.state !== RqState.Complete || s.status === m.status, () => `status ${p}/${tag}: ${s.status} != ${m.status}`);
        if (s.state === RqState.Idle) continue;
        const cur = key({ hctx: s.hctx, tag, gen: s.gen });
        // Invariant 3, step by step: a live slot is exactly a generation someone still holds (and, inline, has not ended).
        ensure(s.refs === held.get(cur), () => `invariant 3: ${cur} has ${s.refs} refs, holders hold ${held.get(cur)}`);
        ensure(cfg.recycle === 'on-drop' || !ends.has(cur), () => `invariant 3: ${cur} ended but not IDLE (inline)`);
      }
    }
    // Invariant 1: every generation with a live reference (on-drop) still owns its slot.
    if (cfg.recycle === 'on-drop') {
      for (const t of tokens) {
        if ((held.get(key(t)) ?? 0) === 0) continue;
        const s = table.slotSync(t.hctx, t.tag);
        ensure(s.gen === t.gen && s.hctx === t.hctx, () => `invariant 1: ${key(t)} is held but the slot is ${show(s)}`);
      }
    }
    // Invariant 2: no generation ended twice.
    for (const [k, n] of ends) ensure(n <= 1, () => `invariant 2: ${k} ended ${n} times`);
  };

  for (const a of actions) {
    if (a.k === 'alloc') {
      const want = Math.min(a.count, model.free(a.hctx));
      const got = table.allocSync(a.hctx, a.count);
      ensure(got.length === want, () => `alloc(${a.hctx}, ${a.count}) gave ${got.length}, want ${want}`);
      for (const t of got) {
        const m = model.slot(t);
        ensure(m.state === RqState.Idle, () => `alloc gave busy slot ${key(t)}`);
        ensure(t.hctx === a.hctx && t.gen === m.gen + 1, () => `alloc gave ${key(t)}, model gen ${m.gen}`);
        Object.assign(m, { hctx: a.hctx, gen: t.gen, state: RqState.Allocated, refs: 1, deadline: 0 });
        tokens.push(t);
        hold(t, 1);
      }
    } else if (tokens.length === 0) {
      continue;
    } else if (a.k === 'one' || a.k === 'batch') {
      applyBoth((a.k === 'one' ? [a.op] : a.ops).map(opOf));
    } else if (a.k === 'staleEnd') {
      const stale = tokens.filter((t) => table.slotSync(t.hctx, t.tag).gen !== t.gen || ends.has(key(t)));
      if (stale.length === 0) continue;
      const t = stale[a.pick % stale.length];
      const before = table.busySync();
      const [r] = applyBoth([{ op: 'end', token: t, status: BlkStatus.OK, drop: a.drop }]);
      ensure(r === Stale || r === AlreadyComplete, () => `stale end of ${key(t)} returned ${r}`);
      ensure(same(table.busySync(), before), () => `stale end of ${key(t)} changed the table`);
    } else {
      now += a.advance;
      const due = table.expiredSync(now, 100);
      const want = model.pools.flat().filter((m) => m.state === RqState.InFlight && m.deadline <= now).length;
      ensure(due.length === want, () => `expired(${now}) gave ${due.length}, model ${want}`);
      applyBoth(due.map((token) => ({ op: 'end', token, status: BlkStatus.TIMEOUT, drop: true })));
    }
    check();
  }

  // Invariant 3 at the end: release what is held (on-drop) or end what is live (inline); every slot is IDLE.
  for (const s of table.busySync()) {
    const t = { hctx: s.hctx, tag: s.tag, gen: s.gen };
    const ops: TableOp[] =
      cfg.recycle === 'inline'
        ? [{ op: 'end', token: t, status: BlkStatus.OK }]
        : Array.from({ length: held.get(key(t)) ?? 0 }, () => ({ op: 'drop', token: t }) as TableOp);
    ensure(applyBoth(ops).at(-1) === Recycled, () => `invariant 3: releasing ${key(t)} did not recycle it`);
  }
  check();
  ensure(table.busyCount === 0, () => `invariant 3: ${table.busyCount} slots busy after release`);
}

describe('request table under random interleavings', () => {
  it(`keeps the model and invariants 1-3 over ${RUNS} random runs`, () => {
    let steps = 0;
    const seed = process.env.BLKMQ_SEED ? Number(process.env.BLKMQ_SEED) : undefined;
    fc.assert(
      fc.property(cfgArb, fc.array(actionArb, { minLength: 5, maxLength: 30 }), (cfg, actions) => {
        steps += actions.length;
        run(cfg, actions);
      }),
      { numRuns: RUNS, seed, path: process.env.BLKMQ_PATH },
    );
    expect(steps).toBeGreaterThan(RUNS * 5 - 1);
  });
});
