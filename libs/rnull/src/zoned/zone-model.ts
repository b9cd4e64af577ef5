// Mirrors drivers/block/null_blk/zoned.c in memory: the zone state machine of one zoned
// disk (null_zone_write, null_zone_mgmt, zone_cond_store, null_report_zones). The cluster
// keeps the same machine in Redis (`libs/redis-mq/src/lua/include/zones.lua`, DESIGN I17)
// so that every process sees one truth; this copy is what that one is checked against
// (the randomized test in libs/hot-path) and what an in-process disk can run on.
import { BlkStatus, type BlkZone, NO_WRITE_POINTER, ZoneCond, type ZoneShape, ZoneType, zoneExtent, zoneNo } from '#blk-mq';

/** A zone management operation (REQ_OP_ZONE_*). */
export type ZoneMgmtOp = 'open' | 'close' | 'finish' | 'reset' | 'reset-all';

interface ZoneState {
  cond: ZoneCond;
  wp: number;
}

/**
 * Invariants (null_blk's, with its resource accounting always on):
 *   - `count` holds how many sequential zones are IMP_OPEN, EXP_OPEN and CLOSED: every
 *     change of a zone goes through `set`, which moves the counts with the condition.
 *   - A write or append moves a write pointer only when it succeeds; a zone whose write
 *     pointer reaches its capacity is FULL.
 *   - With max_open (max_active) > 0, no more zones are open (active: open or closed)
 *     than that; an implicitly open zone is closed, round robin from the last one closed
 *     that way, to make room, as null_check_open() does.
 *   - `discards` lists, in order, the sector ranges whose data a reset (or a READ_ONLY /
 *     OFFLINE set twice) dropped; the caller frees them.
 */
export class ZoneModel {
  private readonly zones: ZoneState[];
  /** How many zones are IMP_OPEN, EXP_OPEN and CLOSED: kept by `set`, the one place a zone changes. */
  private readonly count = new Map<ZoneCond, number>([
    [ZoneCond.IMP_OPEN, 0],
    [ZoneCond.EXP_OPEN, 0],
    [ZoneCond.CLOSED, 0],
  ]);
  private nextToClose: number;
  readonly discards: [start: number, len: number][] = [];

  constructor(readonly shape: ZoneShape) {
    this.zones = Array.from({ length: shape.nrZones }, (_, z) => {
      const { start, len, capacity } = zoneExtent(shape, z);
      if (z < shape.nrConv) return { cond: ZoneCond.NOT_WP, wp: start + len };
      return shape.full ? { cond: ZoneCond.FULL, wp: start + capacity } : { cond: ZoneCond.EMPTY, wp: start };
    });
    this.nextToClose = shape.nrConv;
  }

  /** The open and active counts null_blk keeps (for metrics and tests). */
  get counts(): { impOpen: number; expOpen: number; closed: number } {
    return { impOpen: this.n(ZoneCond.IMP_OPEN), expOpen: this.n(ZoneCond.EXP_OPEN), closed: this.n(ZoneCond.CLOSED) };
  }

  /** null_zone_write: the status, and the sector the write landed at (an append's write pointer). */
  write(sector: number, sectors: number, append: boolean): { status: BlkStatus; sector: number } {
    const z = zoneNo(this.shape, sector);
    if (z >= this.shape.nrZones) return { status: BlkStatus.IOERR, sector };
    if (z < this.shape.nrConv) return { status: append ? BlkStatus.IOERR : BlkStatus.OK, sector };
    const s = this.zones[z];
    const { start, capacity } = zoneExtent(this.shape, z);
    if (append) {
      if (s.wp === NO_WRITE_POINTER) return { status: BlkStatus.IOERR, sector };
      sector = s.wp;
    }
    if (sector !== s.wp || s.wp + sectors > start + capacity) return { status: BlkStatus.IOERR, sector };
    if (s.cond === ZoneCond.CLOSED || s.cond === ZoneCond.EMPTY) {
      const r = this.checkResources(s.cond);
      if (r !== BlkStatus.OK) return { status: r, sector };
      this.set(z, ZoneCond.IMP_OPEN, s.wp);
    }
    const wp = s.wp + sectors;
    this.set(z, wp === start + capacity ? ZoneCond.FULL : s.cond, wp);
    return { status: BlkStatus.OK, sector };
  }

  /** null_zone_mgmt (`sector` is ignored by reset-all). */
  mgmt(op: ZoneMgmtOp, sector: number): BlkStatus {
    if (op === 'reset-all') {
      for (let z = this.shape.nrConv; z < this.shape.nrZones; z++) {
        const c = this.zones[z].cond;
        if (c !== ZoneCond.EMPTY && c !== ZoneCond.READONLY && c !== ZoneCond.OFFLINE) this.reset(z);
      }
      return BlkStatus.OK;
    }
    const z = zoneNo(this.shape, sector);
    if (z >= this.shape.nrZones || z < this.shape.nrConv) return BlkStatus.IOERR;
    const c = this.zones[z].cond;
    if (c === ZoneCond.READONLY || c === ZoneCond.OFFLINE) return BlkStatus.IOERR;
    switch (op) {
      case 'open':
        return this.open(z);
      case 'close':
        return this.close(z);
      case 'finish':
        return this.finish(z);
      case 'reset':
        return this.reset(z);
    }
  }

  /** zone_cond_store (zone_readonly / zone_offline): set again, the zone is EMPTY again. */
  setCond(sector: number, cond: ZoneCond.READONLY | ZoneCond.OFFLINE): BlkStatus {
    const z = zoneNo(this.shape, sector);
    if (z >= this.shape.nrZones || z < this.shape.nrConv) return BlkStatus.IOERR;
    const s = this.zones[z];
    const { start, len } = zoneExtent(this.shape, z);
    if (s.cond === cond) {
      this.set(z, ZoneCond.EMPTY, start);
      this.discards.push([start, len]);
    } else {
      if (s.cond !== ZoneCond.READONLY && s.cond !== ZoneCond.OFFLINE) this.finish(z);
      this.set(z, cond, NO_WRITE_POINTER);
    }
    return BlkStatus.OK;
  }

  /** IOERR when a zone of the range is OFFLINE (null_process_zoned_cmd's read path). */
  readable(sector: number, sectors: number): BlkStatus {
    const last = Math.min(zoneNo(this.shape, sector + Math.max(sectors, 1) - 1), this.shape.nrZones - 1);
    for (let z = Math.max(zoneNo(this.shape, sector), this.shape.nrConv); z <= last; z++) {
      if (this.zones[z].cond === ZoneCond.OFFLINE) return BlkStatus.IOERR;
    }
    return BlkStatus.OK;
  }

  /** null_report_zones: up to `count` zones from the one that holds `sector`. */
  report(sector: number, count: number): BlkZone[] {
    const out: BlkZone[] = [];
    for (let z = zoneNo(this.shape, sector); z < this.shape.nrZones && out.length < count; z++) {
      const { start, len, capacity } = zoneExtent(this.shape, z);
      const { cond, wp } = this.zones[z];
      out.push({ start, len, capacity, wp, cond, type: z < this.shape.nrConv ? ZoneType.CONVENTIONAL : ZoneType.SEQWRITE_REQ });
    }
    return out;
  }

  /** The one place a zone changes; the open / closed counts follow its condition. */
  private set(z: number, cond: ZoneCond, wp: number): void {
    const s = this.zones[z];
    if (this.count.has(s.cond)) this.count.set(s.cond, this.n(s.cond) - 1);
    if (this.count.has(cond)) this.count.set(cond, this.n(cond) + 1);
    s.cond = cond;
    s.wp = wp;
  }

  private n(cond: ZoneCond): number {
    return this.count.get(cond) ?? 0;
  }

  private checkActive(): BlkStatus {
    const { maxActive } = this.shape;
    const active = this.n(ZoneCond.EXP_OPEN) + this.n(ZoneCond.IMP_OPEN) + this.n(ZoneCond.CLOSED);
    return maxActive === 0 || active < maxActive ? BlkStatus.OK : BlkStatus.ZONE_ACTIVE_RESOURCE;
  }

  private checkOpen(): BlkStatus {
    const { maxOpen } = this.shape;
    const imp = this.n(ZoneCond.IMP_OPEN);
    if (maxOpen === 0 || this.n(ZoneCond.EXP_OPEN) + imp < maxOpen) return BlkStatus.OK;
    if (imp > 0 && this.checkActive() === BlkStatus.OK) {
      this.closeImpOpen();
      return BlkStatus.OK;
    }
    return BlkStatus.ZONE_OPEN_RESOURCE;
  }

  /** null_check_zone_resources, for an EMPTY or CLOSED zone about to open. */
  private checkResources(cond: ZoneCond): BlkStatus {
    if (cond === ZoneCond.EMPTY) {
      const r = this.checkActive();
      return r === BlkStatus.OK ? this.checkOpen() : r;
    }
    return cond === ZoneCond.CLOSED ? this.checkOpen() : BlkStatus.IOERR;
  }

  /** null_close_imp_open_zone. */
  private closeImpOpen(): void {
    const { nrConv, nrZones } = this.shape;
    let zno = this.nextToClose >= nrZones ? nrConv : this.nextToClose;
    for (let i = nrConv; i < nrZones; i++) {
      const z = zno;
      zno = zno + 1 >= nrZones ? nrConv : zno + 1;
      const s = this.zones[z];
      if (s.cond !== ZoneCond.IMP_OPEN) continue;
      this.set(z, s.wp === zoneExtent(this.shape, z).start ? ZoneCond.EMPTY : ZoneCond.CLOSED, s.wp);
      this.nextToClose = zno;
      return;
    }
  }

  private open(z: number): BlkStatus {
    const s = this.zones[z];
    if (s.cond === ZoneCond.EXP_OPEN) return BlkStatus.OK;
    if (s.cond === ZoneCond.EMPTY || s.cond === ZoneCond.CLOSED) {
      const r = this.checkResources(s.cond);
      if (r !== BlkStatus.OK) return r;
    } else if (s.cond !== ZoneCond.IMP_OPEN) return BlkStatus.IOERR;
    this.set(z, ZoneCond.EXP_OPEN, s.wp);
    return BlkStatus.OK;
  }

  private close(z: number): BlkStatus {
    const s = this.zones[z];
    if (s.cond === ZoneCond.CLOSED) return BlkStatus.OK;
    if (s.cond !== ZoneCond.IMP_OPEN && s.cond !== ZoneCond.EXP_OPEN) return BlkStatus.IOERR;
    this.set(z, s.wp === zoneExtent(this.shape, z).start ? ZoneCond.EMPTY : ZoneCond.CLOSED, s.wp);
    return BlkStatus.OK;
  }

  private finish(z: number): BlkStatus {
    const s = this.zones[z];
    if (s.cond === ZoneCond.FULL) return BlkStatus.OK;
    if (s.cond === ZoneCond.EMPTY || s.cond === ZoneCond.CLOSED) {
      const r = this.checkResources(s.cond);
      if (r !== BlkStatus.OK) return r;
    } else if (s.cond !== ZoneCond.IMP_OPEN && s.cond !== ZoneCond.EXP_OPEN) return BlkStatus.IOERR;
    const { start, len } = zoneExtent(this.shape, z);
    this.set(z, ZoneCond.FULL, start + len);
    return BlkStatus.OK;
  }

  private reset(z: number): BlkStatus {
    const { cond } = this.zones[z];
    if (cond === ZoneCond.READONLY || cond === ZoneCond.OFFLINE) return BlkStatus.IOERR;
    const { start, len } = zoneExtent(this.shape, z);
    this.set(z, ZoneCond.EMPTY, start);
    this.discards.push([start, len]);
    return BlkStatus.OK;
  }
}
