// Mirrors no kernel object: the parts of the request-table contract that differ by
// recycle mode and tag sharing (invariants 1-3 in each mode).

import { describe, expect, it } from '@jest/globals';
import { BlkStatus } from '../blk-status';
import { OpResult, RequestTable, RequestToken, RqState } from '../request-table';
import { TableFactory, drop, end, keys, ref, requeue, slotOf, start } from './table-op-builders';

const { Ok, Recycled, Stale, AlreadyComplete, BadState } = OpResult;

/** Defines the mode-specific contract tests; `recycleOne` takes a fresh request back to IDLE. */
export function recycleModeContract(table: TableFactory, recycleOne: (t: RequestTable, tok: RequestToken) => Promise<void>): void {
  describe("recycle 'on-drop'", () => {
    it('end: ALLOCATED or IN_FLIGHT -> COMPLETE with the status; the slot waits for its references', async () => {
      const t = await table();
      const [a, b] = await t.alloc(0, 2);
      expect(await t.apply([end(a, BlkStatus.NOTSUPP), start(b), end(b, BlkStatus.MEDIUM)])).toEqual([Ok, Ok, Ok]);
      expect(await slotOf(t, a)).toMatchObject({ state: RqState.Complete, refs: 1, status: BlkStatus.NOTSUPP });
      expect(await slotOf(t, b)).toMatchObject({ state: RqState.Complete, refs: 2, status: BlkStatus.MEDIUM });
      expect(await t.alloc(0, 4)).toHaveLength(2);
    });

    it('end with drop releases the caller reference in the same step; the last one recycles', async () => {
      const t = await table();
      const [a, b] = await t.alloc(0, 2);
      expect(await t.apply([start(a), end(a, BlkStatus.OK, true), end(b, BlkStatus.OK, true)])).toEqual([Ok, Ok, Recycled]);
      expect(await slotOf(t, a)).toMatchObject({ state: RqState.Complete, refs: 1 });
      expect(await slotOf(t, b)).toMatchObject({ state: RqState.Idle, refs: 0 });
    });

    it('start and requeue on a COMPLETE request are BAD_STATE; ref still works', async () => {
      const t = await table();
      const [a] = await t.alloc(0, 1);
      expect(await t.apply([end(a), start(a), requeue(a), ref(a)])).toEqual([Ok, BadState, BadState, Ok]);
      expect(await slotOf(t, a)).toMatchObject({ state: RqState.Complete, refs: 2 });
      expect(await t.apply([drop(a), drop(a)])).toEqual([Ok, Recycled]);
    });

    it('invariant 1: a tag is never reallocated while a reference to its generation is live', async () => {
      const t = await table({ queueDepth: 4 });
      const all = await t.alloc(0, 4);
      const [h1, h2, f1, f2] = all;
      await t.apply([start(h1), ref(h1), end(h1, BlkStatus.OK, true), drop(h1), ref(h2), end(h2), drop(h2)]);
      expect(await t.apply([end(f1, BlkStatus.OK, true), drop(f2)])).toEqual([Recycled, Recycled]);
      const again = await t.alloc(0, 4);
      expect(again.map((x) => x.tag).sort()).toEqual([f1.tag, f2.tag].sort());
      expect(await slotOf(t, h1)).toMatchObject({ gen: 1, state: RqState.Complete, refs: 1 });
      expect(await slotOf(t, h2)).toMatchObject({ gen: 1, state: RqState.Complete, refs: 1 });
      expect(await t.apply([drop(h1), drop(h2)])).toEqual([Recycled, Recycled]);
      expect(keys(await t.alloc(0, 4))).toEqual(keys([h1, h2].map((x) => ({ ...x, gen: 2 }))));
    });

    it('invariant 2: a request ends once; a second end is ALREADY_COMPLETE and changes nothing', async () => {
      const t = await table();
      const [a] = await t.alloc(0, 1);
      expect(await t.apply([start(a), end(a, BlkStatus.IOERR)])).toEqual([Ok, Ok]);
      const before = await slotOf(t, a);
      expect(await t.apply([end(a, BlkStatus.OK), end(a, BlkStatus.OK, true), end(a, BlkStatus.TIMEOUT)])).toEqual([
        AlreadyComplete,
        AlreadyComplete,
        AlreadyComplete,
      ]);
      expect(await slotOf(t, a)).toEqual(before);
      expect(before).toMatchObject({ state: RqState.Complete, status: BlkStatus.IOERR, refs: 2 });
    });

    it('invariant 2: an end with the old generation after reuse is STALE and leaves the new request alone', async () => {
      const t = await table({ queueDepth: 1 });
      const [old] = await t.alloc(0, 1);
      expect(await t.apply([start(old), end(old, BlkStatus.OK, true), drop(old)])).toEqual([Ok, Ok, Recycled]);
      const [cur] = await t.alloc(0, 1);
      expect(await t.apply([end(old, BlkStatus.IOERR), end(old, BlkStatus.OK, true)])).toEqual([Stale, Stale]);
      expect(await slotOf(t, cur)).toMatchObject({ gen: 2, state: RqState.Allocated, refs: 1 });
    });

    it('invariant 3: once every reference is dropped, every slot is IDLE', async () => {
      const t = await table({ queueDepth: 8 });
      const r = await t.alloc(0, 8);
      await t.apply([
        start(r[0]),
        end(r[0], BlkStatus.OK, true),
        drop(r[0]),
        start(r[1]),
        end(r[1], BlkStatus.IOERR, true),
        start(r[2], 10),
        start(r[3]),
        requeue(r[3]),
        start(r[3]),
        end(r[3], BlkStatus.OK, true),
        drop(r[4]),
        start(r[5]),
        ref(r[5]),
        end(r[5], BlkStatus.OK, true),
        start(r[6]),
        end(r[6]),
      ]);
      expect(keys(await t.expired(10, 10))).toEqual(keys([r[2]]));
      expect(await t.apply([end(r[2], BlkStatus.TIMEOUT, true)])).toEqual([Ok]);
      const busy = await t.busy();
      expect(keys(busy)).toEqual(keys([r[1], r[2], r[3], r[5], r[6], r[7]]));
      expect(busy.filter((s) => s.state === RqState.Complete)).toHaveLength(5);
      const res = await t.apply([r[1], r[2], r[3], r[5], r[5], r[6], r[6], r[7]].map(drop));
      expect(res.filter((x) => x === Recycled)).toHaveLength(6);
      expect(await t.busy()).toEqual([]);
      for (const x of r) expect(await slotOf(t, x)).toMatchObject({ state: RqState.Idle, refs: 0 });
    });
  });

  describe("recycle 'inline'", () => {
    it('end goes straight to IDLE even with references held; those are then STALE', async () => {
      const t = await table({ recycle: 'inline', queueDepth: 1 });
      const [old] = await t.alloc(0, 1);
      expect(await t.apply([start(old), ref(old), end(old)])).toEqual([Ok, Ok, Recycled]);
      expect(await slotOf(t, old)).toMatchObject({ state: RqState.Idle, refs: 0 });
      const [cur] = await t.alloc(0, 1);
      expect(cur.gen).toBe(2);
      expect(await t.apply([drop(old), drop(old), drop(old)])).toEqual([Stale, Stale, Stale]);
      expect(await slotOf(t, cur)).toMatchObject({ state: RqState.Allocated, refs: 1 });
    });

    it('invariant 2: a second end is STALE and changes nothing', async () => {
      const t = await table({ recycle: 'inline' });
      const [a, b] = await t.alloc(0, 2);
      expect(await t.apply([end(a, BlkStatus.IOERR), end(a, BlkStatus.OK), end(a, BlkStatus.OK, true)])).toEqual([Recycled, Stale, Stale]);
      expect(await t.busy()).toEqual([expect.objectContaining({ tag: b.tag, state: RqState.Allocated, refs: 1 })]);
    });

    it('invariant 3: once every request has ended, every slot is IDLE', async () => {
      const t = await table({ recycle: 'inline', queueDepth: 4 });
      const r = await t.alloc(0, 4);
      await t.apply([start(r[0]), ref(r[0]), ref(r[0]), start(r[1]), requeue(r[1]), drop(r[2])]);
      expect(await t.busy()).toHaveLength(3);
      expect(await t.apply([end(r[0]), end(r[1], BlkStatus.IOERR), end(r[3], BlkStatus.TIMEOUT, true)])).toEqual([
        Recycled,
        Recycled,
        Recycled,
      ]);
      expect(await t.busy()).toEqual([]);
    });
  });

  describe('shared tags', () => {
    it('one pool of queueDepth tags for every hctx; tokens carry the allocating hctx', async () => {
      const t = await table({ nrHwQueues: 3, queueDepth: 4, sharedTagBitmap: true });
      const a = await t.alloc(0, 2);
      const b = await t.alloc(2, 3);
      expect(a).toHaveLength(2);
      expect(b).toHaveLength(2);
      expect(await t.alloc(1, 1)).toEqual([]);
      expect(new Set([...a, ...b].map((x) => x.tag)).size).toBe(4);
      for (const x of a) expect(x.hctx).toBe(0);
      for (const x of b) expect(x.hctx).toBe(2);
      for (const x of b) expect(await t.slot(2, x.tag)).toMatchObject({ hctx: 2, state: RqState.Allocated });
      expect(keys(await t.busy())).toEqual(keys([...a, ...b]));
    });

    it('a token naming another hctx than the one that took the tag is STALE', async () => {
      const t = await table({ nrHwQueues: 2, queueDepth: 2, sharedTagBitmap: true });
      const [a] = await t.alloc(0, 1);
      const wrong = { ...a, hctx: 1 };
      expect(await t.apply([start(wrong), end(wrong), drop(wrong)])).toEqual([Stale, Stale, Stale]);
      expect(await t.slot(0, a.tag)).toMatchObject({ hctx: 0, state: RqState.Allocated, refs: 1 });
    });

    it('a freed tag goes to whichever hctx asks next, at the next generation', async () => {
      const t = await table({ nrHwQueues: 2, queueDepth: 1, sharedTagBitmap: true });
      const [a] = await t.alloc(0, 1);
      expect(await t.alloc(1, 1)).toEqual([]);
      await recycleOne(t, a);
      expect(await t.alloc(1, 1)).toEqual([{ hctx: 1, tag: a.tag, gen: 2 }]);
    });
  });

  describe('per-hctx tags', () => {
    it('every hctx has its own queueDepth tags and generations', async () => {
      const t = await table({ nrHwQueues: 2, queueDepth: 2 });
      const a = await t.alloc(0, 2);
      expect(await t.alloc(0, 1)).toEqual([]);
      const b = await t.alloc(1, 2);
      expect(b.map((x) => x.hctx)).toEqual([1, 1]);
      expect(b.map((x) => x.tag).sort()).toEqual([0, 1]);
      expect(await t.apply(b.map((x) => end(x, BlkStatus.OK, true)))).toEqual([Recycled, Recycled]);
      for (const x of a) expect(await slotOf(t, x)).toMatchObject({ hctx: 0, gen: 1, state: RqState.Allocated, refs: 1 });
      expect((await t.alloc(1, 2)).map((x) => x.gen)).toEqual([2, 2]);
    });
  });
}
