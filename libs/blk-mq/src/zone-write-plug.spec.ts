// ZoneWritePlugs (blk_zone_plug_bio): one write per sequential zone in flight, the rest in
// submission order; everything else passes at once.
import { Bio } from './bio';
import type { ZoneShape } from './blk-zone';
import { ReqOp } from './req-op';
import { ZoneWritePlugs } from './zone-write-plug';

/** 4 zones of 64 sectors, zone 0 conventional. */
const SHAPE: ZoneShape = {
  nrZones: 4,
  nrConv: 1,
  zoneSectors: 64,
  capacitySectors: 64,
  lastZoneSectors: 64,
  maxOpen: 0,
  maxActive: 0,
  appendMaxSectors: 0,
  full: false,
};
const bio = (op: ReqOp, sector: number) => new Bio({ op, sector, bytes: 4096, flags: 0, buffer: new Uint8Array(4096) });
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('ZoneWritePlugs', () => {
  it('issues one write per sequential zone and the next only after it ended, in order', async () => {
    const plugs = new ZoneWritePlugs(SHAPE);
    const issued: string[] = [];
    const w = [bio(ReqOp.WRITE, 64), bio(ReqOp.WRITE, 72), bio(ReqOp.WRITE_ZEROES, 80), bio(ReqOp.WRITE, 128)];
    w.forEach((b, i) => plugs.admit(b, () => issued.push(`w${i}`)));
    expect(issued).toEqual(['w0', 'w3']); // zone 1's first write and zone 2's
    expect(plugs.waiting).toBe(2);
    plugs.done(w[0]);
    await settle();
    expect(issued).toEqual(['w0', 'w3', 'w1']);
    plugs.done(w[1]);
    await settle();
    plugs.done(w[2]);
    await settle();
    expect(issued).toEqual(['w0', 'w3', 'w1', 'w2']);
    expect(plugs.waiting).toBe(0);
    // The zone is idle again: the next write goes at once.
    plugs.admit(bio(ReqOp.WRITE, 88), () => issued.push('w4'));
    expect(issued.at(-1)).toBe('w4');
  });

  it('lets reads, appends, zone management and conventional-zone writes pass while a zone is busy', () => {
    const plugs = new ZoneWritePlugs(SHAPE);
    const issued: string[] = [];
    plugs.admit(bio(ReqOp.WRITE, 64), () => issued.push('write'));
    plugs.admit(bio(ReqOp.READ, 64), () => issued.push('read'));
    plugs.admit(new Bio({ op: ReqOp.ZONE_APPEND, sector: 64, bytes: 4096, flags: 0, buffer: new Uint8Array(4096) }), () =>
      issued.push('append'),
    );
    plugs.admit(new Bio({ op: ReqOp.ZONE_RESET, sector: 64, bytes: 0, flags: 0 }), () => issued.push('reset'));
    plugs.admit(bio(ReqOp.WRITE, 0), () => issued.push('conv'));
    plugs.admit(bio(ReqOp.WRITE, 8), () => issued.push('conv2'));
    expect(issued).toEqual(['write', 'read', 'append', 'reset', 'conv', 'conv2']);
    expect(plugs.waiting).toBe(0);
  });
});
