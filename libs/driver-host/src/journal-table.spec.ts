// JournalTable: local slot copies that `Request` objects act on, with a journal of every
// op that succeeded, in order, for the batched flush to Redis.
import { BlkStatus, OpResult, RqState, type RequestToken, type TableOp } from '#blk-mq';
import { JournalTable } from './journal-table';

const T1: RequestToken = { hctx: 0, tag: 3, gen: 7 };
const T2: RequestToken = { hctx: 1, tag: 0, gen: 2 };

const start = (token: RequestToken, deadlineMs = 1000): TableOp => ({ op: 'start', token, deadlineMs });
const end = (token: RequestToken, status = BlkStatus.OK, drop = true): TableOp => ({ op: 'end', token, status, drop });

describe.each(['on-drop', 'inline'] as const)('JournalTable, recycle %s', (recycle) => {
  let table: JournalTable;

  beforeEach(() => {
    table = new JournalTable('rnullb0', recycle);
    table.addInFlight(T1);
    table.addInFlight(T2);
  });

  it('holds the requests it was given as IN_FLIGHT with the submitter and driver references', () => {
    expect(table.disk).toBe('rnullb0');
    expect(table.isCurrent(T1)).toBe(true);
    expect(table.slotSync(0, 3)).toMatchObject({ hctx: 0, tag: 3, gen: 7, state: RqState.InFlight, refs: 2 });
    expect(table.take()).toEqual([]);
  });

  it('journals the ops that succeeded, in order, and returns the local results', () => {
    const ref: TableOp = { op: 'ref', token: T1 };
    const drop: TableOp = { op: 'drop', token: T1 };
    const results = table.applySync([ref, end(T2, BlkStatus.IOERR), drop, end(T1)]);
    expect(results).toEqual([
      OpResult.Ok,
      recycle === 'inline' ? OpResult.Recycled : OpResult.Ok,
      OpResult.Ok,
      recycle === 'inline' ? OpResult.Recycled : OpResult.Ok,
    ]);
    expect(table.take()).toEqual([ref, end(T2, BlkStatus.IOERR), drop, end(T1)]);
    expect(table.slotSync(1, 0).status).toBe(BlkStatus.IOERR);
  });

  it('does not journal refusals', () => {
    expect(table.applySync([end(T1), end(T1)])).toEqual([
      recycle === 'inline' ? OpResult.Recycled : OpResult.Ok,
      recycle === 'inline' ? OpResult.Stale : OpResult.AlreadyComplete,
    ]);
    expect(table.take()).toEqual([end(T1)]);
  });

  it('keeps a repeated start local: AlreadyStarted resets the deadline but is not journaled', () => {
    expect(table.applySync([start(T1, 5000)])).toEqual([OpResult.AlreadyStarted]);
    expect(table.slotSync(0, 3).deadlineMs).toBe(5000);
    expect(table.take()).toEqual([]);
  });

  it('journals requeue and a start after it', () => {
    const requeue: TableOp = { op: 'requeue', token: T1 };
    expect(table.applySync([requeue, start(T1, 42)])).toEqual([OpResult.Ok, OpResult.Ok]);
    expect(table.take()).toEqual([requeue, start(T1, 42)]);
  });

  it('answers STALE for tokens it was not given, and for other generations of its slots', () => {
    const other: RequestToken = { hctx: 0, tag: 4, gen: 7 };
    const oldGen: RequestToken = { ...T1, gen: 6 };
    const otherHctx: RequestToken = { ...T1, hctx: 1 };
    expect(table.applySync([end(other), end(oldGen), start(otherHctx), { op: 'ref', token: oldGen }])).toEqual(
      Array(4).fill(OpResult.Stale),
    );
    expect(table.isCurrent(other)).toBe(false);
    expect(table.isCurrent(oldGen)).toBe(false);
    expect(table.slotSync(0, 4)).toMatchObject({ state: RqState.Idle, refs: 0, gen: 0 });
    expect(table.take()).toEqual([]);
  });

  it('take() empties the journal', () => {
    table.applySync([{ op: 'ref', token: T1 }]);
    expect(table.take()).toHaveLength(1);
    expect(table.take()).toEqual([]);
    table.applySync([{ op: 'drop', token: T1 }]);
    expect(table.take()).toEqual([{ op: 'drop', token: T1 }]);
  });

  it('hands out frozen views: changing one changes nothing', () => {
    const v = table.slotSync(0, 3);
    expect(Object.isFrozen(v)).toBe(true);
    expect(table.slotSync(0, 3)).toEqual(v);
  });
});

describe('JournalTable, recycle on-drop', () => {
  it('keeps an ended request current until its last reference drops', () => {
    const table = new JournalTable('d', 'on-drop');
    table.addInFlight(T1);
    expect(table.applySync([end(T1)])).toEqual([OpResult.Ok]);
    expect(table.isCurrent(T1)).toBe(true);
    expect(table.slotSync(0, 3)).toMatchObject({ state: RqState.Complete, refs: 1 });
    expect(table.applySync([{ op: 'drop', token: T1 }])).toEqual([OpResult.Recycled]);
    expect(table.isCurrent(T1)).toBe(false);
    expect(table.take()).toHaveLength(2);
  });
});
