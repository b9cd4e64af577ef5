// Runs the shared RequestTable contract against InProcRequestTable, plus what only the
// in-process table promises (sync variants, counters, listeners, bad tokens).

import { BlkStatus } from './blk-status';
import { ConfigError } from './config-check';
import { InProcRequestTable } from './inproc-request-table';
import { OpResult, RqState } from './request-table';
import { requestTableContract } from './testing/request-table-contract';

requestTableContract('InProcRequestTable', async (cfg, disk) => new InProcRequestTable(disk, cfg));

describe('InProcRequestTable', () => {
  const make = (over = {}) =>
    new InProcRequestTable('nullb0', { nrHwQueues: 2, queueDepth: 2, sharedTagBitmap: false, recycle: 'on-drop', ...over });

  it('counts stale, double-end, bad-state and no-reference refusals for metrics', () => {
    const t = make();
    const [a] = t.allocSync(0, 1);
    t.applySync([{ op: 'end', token: a, status: BlkStatus.OK }]);
    t.applySync([
      { op: 'end', token: a, status: BlkStatus.OK },
      { op: 'start', token: a, deadlineMs: 1 },
      { op: 'drop', token: { ...a, gen: 9 } },
    ]);
    const [b] = t.allocSync(1, 1);
    t.applySync([
      { op: 'start', token: b, deadlineMs: 1 },
      { op: 'drop', token: b },
      { op: 'requeue', token: b },
    ]);
    expect(t.counters).toMatchObject({ allocated: 2, doubleEnds: 1, badState: 1, staleRejected: 1, noReference: 1 });
  });

  it('treats tokens outside the tag space as STALE and rejects a bad hctx on alloc', () => {
    const t = make();
    const bad = [
      { hctx: 5, tag: 0, gen: 1 },
      { hctx: 0, tag: 7, gen: 1 },
      { hctx: -1, tag: 0, gen: 1 },
    ];
    expect(t.applySync(bad.map((token) => ({ op: 'ref', token })))).toEqual([OpResult.Stale, OpResult.Stale, OpResult.Stale]);
    expect(() => t.allocSync(2, 1)).toThrow(/hctx 2 outside 0..1/);
  });

  it('tells listeners about freed tags after the batch, and keeps the last status', () => {
    const t = make();
    const freed: string[] = [];
    t.onTagFreed((h, tag) => freed.push(`${h}/${tag}:${t.slotSync(h, tag).state}`));
    const [a] = t.allocSync(1, 1);
    t.applySync([{ op: 'drop', token: a }]);
    expect(freed).toEqual([`1/${a.tag}:${RqState.Idle}`]);
    expect(t.slotSync(1, a.tag).status).toBe(BlkStatus.IOERR);
    expect(t.freeTags(1)).toBe(2);
  });

  it('validates its configuration with errors naming the field', () => {
    expect(() => make({ queueDepth: 0 })).toThrow(ConfigError);
    expect(() => make({ queueDepth: 0 })).toThrow(/TagSpaceConfig.queueDepth: must be an integer in 1..10240, got 0/);
    expect(() => make({ recycle: 'later' })).toThrow(/TagSpaceConfig.recycle/);
    expect(() => new InProcRequestTable('a/b', make().config)).toThrow(/RequestTable.disk/);
  });
});
