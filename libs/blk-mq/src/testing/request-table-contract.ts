// Mirrors no kernel object: the contract every `RequestTable` implementation passes (the
// in-process table here, and any later one). It uses only the interface and batches its
// ops.
//
// Usage, from a spec:  requestTableContract('redis', (cfg, disk) => makeTable(cfg, disk), cleanup)
// `make` is called for each test with a fresh disk name; `cleanup` runs after each test.

import { afterEach, describe, expect, it } from '@jest/globals';
import { BlkStatus } from '../blk-status';
import { OpResult, RecycleMode, RequestTable, RequestToken, RqState } from '../request-table';
import { recycleModeContract } from './request-table-contract-modes';
import { MakeRequestTable, TableFactory, drop, end, key, keys, ref, requeue, slotOf, start, uniqueDisk } from './table-op-builders';

export type { MakeRequestTable } from './table-op-builders';

const { Ok, AlreadyStarted, Recycled, Stale, BadState, NoReference } = OpResult;

/** Defines the contract's jest tests for the implementation `make` builds. */
export function requestTableContract(name: string, make: MakeRequestTable, cleanup?: () => Promise<void>): void {
  const table: TableFactory = (over = {}) =>
    make({ nrHwQueues: 1, queueDepth: 4, sharedTagBitmap: false, recycle: 'on-drop', ...over }, uniqueDisk());
  /** Takes one request back to IDLE by the mode's own path (end with drop of the only reference). */
  const recycleOne = async (t: RequestTable, tok: RequestToken) => {
    expect(await t.apply([end(tok, BlkStatus.OK, true)])).toEqual([Recycled]);
  };

  describe(`RequestTable contract: ${name}`, () => {
    if (cleanup) afterEach(cleanup);

    describe.each<RecycleMode>(['on-drop', 'inline'])('recycle %s', (recycle) => {
      it('starts with every slot IDLE at generation 0, nothing busy', async () => {
        const t = await table({ recycle });
        expect(t.config).toMatchObject({ nrHwQueues: 1, queueDepth: 4, sharedTagBitmap: false, recycle });
        for (let tag = 0; tag < 4; tag++) expect(await t.slot(0, tag)).toMatchObject({ tag, gen: 0, state: RqState.Idle, refs: 0 });
        expect(await t.busy()).toEqual([]);
      });

      it('alloc takes distinct free tags: ALLOCATED, generation 1, one reference', async () => {
        const t = await table({ recycle });
        const got = await t.alloc(0, 3);
        expect(got).toHaveLength(3);
        expect(new Set(got.map((x) => x.tag)).size).toBe(3);
        for (const x of got) {
          expect(x).toMatchObject({ hctx: 0, gen: 1 });
          expect(x.tag >= 0 && x.tag < 4).toBe(true);
          expect(await slotOf(t, x)).toMatchObject({ hctx: 0, tag: x.tag, gen: 1, state: RqState.Allocated, refs: 1 });
        }
        expect(keys(await t.busy())).toEqual(keys(got));
      });

      it('alloc returns fewer tags when they run out, then none; count 0 returns none', async () => {
        const t = await table({ recycle });
        expect(await t.alloc(0, 0)).toEqual([]);
        expect(await t.alloc(0, 3)).toHaveLength(3);
        expect(await t.alloc(0, 3)).toHaveLength(1);
        expect(await t.alloc(0, 1)).toEqual([]);
        expect(await t.busy()).toHaveLength(4);
      });

      it('a recycled tag is allocated again at the next generation', async () => {
        const t = await table({ recycle, queueDepth: 1 });
        const [a] = await t.alloc(0, 1);
        await recycleOne(t, a);
        expect(await slotOf(t, a)).toMatchObject({ state: RqState.Idle, refs: 0, gen: 1 });
        const [b] = await t.alloc(0, 1);
        expect(b).toEqual({ hctx: 0, tag: a.tag, gen: 2 });
      });

      it('start: ALLOCATED -> IN_FLIGHT with the driver reference; again only resets the deadline', async () => {
        const t = await table({ recycle });
        const [a] = await t.alloc(0, 1);
        expect(await t.apply([start(a, 500)])).toEqual([Ok]);
        expect(await slotOf(t, a)).toMatchObject({ state: RqState.InFlight, refs: 2, deadlineMs: 500 });
        expect(await t.apply([start(a, 900)])).toEqual([AlreadyStarted]);
        expect(await slotOf(t, a)).toMatchObject({ state: RqState.InFlight, refs: 2, deadlineMs: 900 });
      });

      it('requeue: IN_FLIGHT -> ALLOCATED giving the driver reference back; BAD_STATE when not IN_FLIGHT', async () => {
        const t = await table({ recycle });
        const [a] = await t.alloc(0, 1);
        expect(await t.apply([requeue(a), start(a), requeue(a), requeue(a)])).toEqual([BadState, Ok, Ok, BadState]);
        expect(await slotOf(t, a)).toMatchObject({ state: RqState.Allocated, refs: 1 });
        expect(await t.apply([start(a)])).toEqual([Ok]);
        expect(await slotOf(t, a)).toMatchObject({ state: RqState.InFlight, refs: 2 });
      });

      it('requeue with a single reference left is NO_REFERENCE and changes nothing', async () => {
        const t = await table({ recycle });
        const [a] = await t.alloc(0, 1);
        expect(await t.apply([start(a), drop(a)])).toEqual([Ok, Ok]);
        const before = await slotOf(t, a);
        expect(before).toMatchObject({ state: RqState.InFlight, refs: 1 });
        expect(await t.apply([requeue(a)])).toEqual([NoReference]);
        expect(await slotOf(t, a)).toEqual(before);
      });

      it('ref counts references on a live request; drop gives them back', async () => {
        const t = await table({ recycle });
        const [a] = await t.alloc(0, 1);
        expect(await t.apply([ref(a), ref(a)])).toEqual([Ok, Ok]);
        expect(await slotOf(t, a)).toMatchObject({ state: RqState.Allocated, refs: 3 });
        expect(await t.apply([drop(a), drop(a)])).toEqual([Ok, Ok]);
        expect(await slotOf(t, a)).toMatchObject({ state: RqState.Allocated, refs: 1 });
      });

      it('dropping the last reference of an unended request ends and recycles it', async () => {
        const t = await table({ recycle });
        const [a, b] = await t.alloc(0, 2);
        expect(await t.apply([drop(a), start(b), drop(b), drop(b)])).toEqual([Recycled, Ok, Ok, Recycled]);
        expect(await slotOf(t, a)).toMatchObject({ state: RqState.Idle, refs: 0 });
        expect(await slotOf(t, b)).toMatchObject({ state: RqState.Idle, refs: 0 });
        expect(await t.busy()).toEqual([]);
      });

      it('every op with an old generation is STALE and changes nothing', async () => {
        const t = await table({ recycle, queueDepth: 1 });
        const [old] = await t.alloc(0, 1);
        await recycleOne(t, old);
        const [cur] = await t.alloc(0, 1);
        expect(await t.apply([start(cur)])).toEqual([Ok]);
        const before = await slotOf(t, cur);
        const ops = [start(old), requeue(old), end(old), end(old, BlkStatus.OK, true), ref(old), drop(old)];
        expect(await t.apply(ops)).toEqual(ops.map(() => Stale));
        expect(await slotOf(t, cur)).toEqual(before);
      });

      it('every op on an IDLE slot is STALE', async () => {
        const t = await table({ recycle });
        for (const gen of [0, 1]) {
          const idle = { hctx: 0, tag: 2, gen };
          const ops = [start(idle), requeue(idle), end(idle), ref(idle), drop(idle)];
          expect(await t.apply(ops)).toEqual(ops.map(() => Stale));
        }
        expect(await t.busy()).toEqual([]);
      });

      it('a batch runs in order, each op seeing the ones before it', async () => {
        const t = await table({ recycle });
        const [a, b] = await t.alloc(0, 2);
        const res = await t.apply([start(a), ref(a), end(a), start(b), drop(a), drop(a), end(b, BlkStatus.IOERR, true)]);
        if (recycle === 'on-drop') {
          expect(res).toEqual([Ok, Ok, Ok, Ok, Ok, Ok, Ok]);
          expect(await slotOf(t, a)).toMatchObject({ state: RqState.Complete, refs: 1, status: BlkStatus.OK });
          expect(await slotOf(t, b)).toMatchObject({ state: RqState.Complete, refs: 1, status: BlkStatus.IOERR });
          expect(await t.apply([drop(a), drop(b)])).toEqual([Recycled, Recycled]);
        } else {
          expect(res).toEqual([Ok, Ok, Recycled, Ok, Stale, Stale, Recycled]);
        }
        expect(await t.busy()).toEqual([]);
      });

      it('expired lists IN_FLIGHT requests with deadline <= now, at most limit', async () => {
        const t = await table({ recycle });
        const [a, b, c, d] = await t.alloc(0, 4);
        expect(await t.apply([start(a, 100), start(b, 200), start(c, 300)])).toEqual([Ok, Ok, Ok]);
        expect(await t.expired(99, 10)).toEqual([]);
        expect(keys(await t.expired(200, 10))).toEqual(keys([a, b]));
        const two = await t.expired(1_000, 2);
        expect(two).toHaveLength(2);
        for (const x of two) expect(keys([a, b, c])).toContain(key(x));
        expect(keys(await t.expired(1_000, 10))).toEqual(keys([a, b, c]));
        expect(keys(await t.expired(1_000, 10))).not.toContain(key(d));
      });

      it('ended, requeued and restarted requests leave the expired list', async () => {
        const t = await table({ recycle });
        const [a, b, c] = await t.alloc(0, 3);
        await t.apply([start(a, 100), start(b, 100), start(c, 100)]);
        expect(await t.apply([end(a, BlkStatus.TIMEOUT, true), requeue(b), start(c, 5_000)])).toEqual([
          recycle === 'inline' ? Recycled : Ok,
          Ok,
          AlreadyStarted,
        ]);
        expect(await t.expired(1_000, 10)).toEqual([]);
        expect(keys(await t.expired(5_000, 10))).toEqual(keys([c]));
      });
    });

    recycleModeContract(table, recycleOne);
  });
}
