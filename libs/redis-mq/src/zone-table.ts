// Mirrors the zone array of a zoned null_blk device (`dev->zones`, null_init_zoned_dev and
// null_report_zones), kept in Redis in the disk's slot so that every dispatch instance and
// driver process sees one truth (DESIGN I17): laid out at power on, changed only by
// runZoneOps (include/zones.lua), read by zone reports.
import type { Redis } from 'ioredis';
import { BlkStatus, type BlkZone, ReqOp, type Request, ZoneCond, type ZoneShape, ZoneType, zoneExtent, zoneNo } from '#blk-mq';
import type { KeySchema } from './key-schema';
import { type ScriptArg, scriptsFor } from './lua-scripts';
import { PAGE_SIZE } from './page-store';
import { checkReply } from './script-errors';

/** One op of runZoneOps (`kind` as the script names it). */
export interface ZoneOp {
  /** W write, A append, R read, O open, C close, F finish, X reset, XA reset all, RO / OFF set READ_ONLY / OFFLINE. */
  readonly kind: 'W' | 'A' | 'R' | 'O' | 'C' | 'F' | 'X' | 'XA' | 'RO' | 'OFF';
  readonly sector: number;
  readonly sectors: number;
}

/** The runZoneOps kind of a request of `op`, or undefined for ops the zone table has no say in (FLUSH, DISCARD). */
export function zoneOpKindOf(op: ReqOp): ZoneOp['kind'] | undefined {
  switch (op) {
    case ReqOp.WRITE:
    case ReqOp.WRITE_ZEROES: // a zoned disk's write zeroes writes at the write pointer too
      return 'W';
    case ReqOp.ZONE_APPEND:
      return 'A';
    case ReqOp.READ:
      return 'R';
    case ReqOp.ZONE_OPEN:
      return 'O';
    case ReqOp.ZONE_CLOSE:
      return 'C';
    case ReqOp.ZONE_FINISH:
      return 'F';
    case ReqOp.ZONE_RESET:
      return 'X';
    case ReqOp.ZONE_RESET_ALL:
      return 'XA';
    default:
      return undefined;
  }
}

/**
 * The zone step of requests `rqs` with `run` (a ZoneTable's, fenced as the caller needs):
 * one status per request, in order (OK for ops the zone table has no say in); an append
 * that passed has its landed sector set. Refusals of the whole call (owner gone, lease
 * lost) throw, as `run` does.
 */
export async function runZoneRequests(
  rqs: readonly Request<unknown>[],
  run: (ops: ZoneOp[]) => Promise<ZoneOpResult[]>,
): Promise<BlkStatus[]> {
  const ops: ZoneOp[] = [];
  const at: number[] = [];
  rqs.forEach((rq, i) => {
    const kind = zoneOpKindOf(rq.op);
    if (!kind) return;
    at.push(i);
    ops.push({ kind, sector: rq.sector, sectors: rq.sectors });
  });
  const statuses = rqs.map(() => BlkStatus.OK);
  if (ops.length === 0) return statuses;
  const results = await run(ops);
  at.forEach((i, k) => {
    statuses[i] = results[k].status;
    if (results[k].status === BlkStatus.OK && rqs[i].op === ReqOp.ZONE_APPEND) rqs[i].setLandedSector(results[k].sector);
  });
  return statuses;
}

/** An op's outcome: its status and its sector (an append's: where it landed). */
export interface ZoneOpResult {
  readonly status: BlkStatus;
  readonly sector: number;
}

/** The shape fields of a zone table (zones.lua's), in the order `shape` reads them. */
const SHAPE_FIELDS = ['nr', 'conv', 'zsize', 'cap', 'last', 'max_open', 'max_active', 'append_max', 'full'] as const;
/** The fields of a zone table that are not per zone: the shape and zones.lua's counters. */
const TABLE_FIELDS = [...SHAPE_FIELDS, 'imp', 'exp', 'closed', 'next'] as const;
/** A changed zone's condition field, `c<z>` (its write pointer is `w<z>`). */
const CONDITION_FIELD = /^c(\d+)$/;

/**
 * Invariants:
 *   - The table exists exactly while the disk is laid out zoned; `layOut` replaces it
 *     whole (every zone back to the layout's condition) in one MULTI.
 *   - `run` is one atomic step: fenced by the owner epoch (when given), every op in order,
 *     the pages of every zone a reset emptied freed in the same step (`memoryBacked`).
 */
export class ZoneTable {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySchema,
  ) {}

  /** Lays out `shape` for `disk`, every zone as null_init_zoned_dev() leaves it. */
  async layOut(disk: string, shape: ZoneShape): Promise<void> {
    const key = this.keys.zones(disk);
    await this.redis
      .multi()
      .del(key)
      .hset(key, {
        nr: shape.nrZones,
        conv: shape.nrConv,
        zsize: shape.zoneSectors,
        cap: shape.capacitySectors,
        last: shape.lastZoneSectors,
        max_open: shape.maxOpen,
        max_active: shape.maxActive,
        append_max: shape.appendMaxSectors,
        full: shape.full ? 1 : 0,
        imp: 0,
        exp: 0,
        closed: 0,
        next: shape.nrConv,
      })
      .exec();
  }

  /** Drops the table (power off, delete). */
  async remove(disk: string): Promise<void> {
    await this.redis.del(this.keys.zones(disk));
  }

  /** The shape laid out for `disk`, or undefined when it has none. */
  async shape(disk: string): Promise<ZoneShape | undefined> {
    const [nr, conv, zsize, cap, last, maxOpen, maxActive, appendMax, full] = await this.redis.hmget(
      this.keys.zones(disk),
      ...SHAPE_FIELDS,
    );
    if (nr === null) return undefined;
    return {
      nrZones: Number(nr),
      nrConv: Number(conv),
      zoneSectors: Number(zsize),
      capacitySectors: Number(cap),
      lastZoneSectors: Number(last),
      maxOpen: Number(maxOpen),
      maxActive: Number(maxActive),
      appendMaxSectors: Number(appendMax),
      full: full === '1',
    };
  }

  /**
   * runZoneOps: `ops` in order, one atomic step, only while owner `epoch` is alive
   * (OwnerGoneError otherwise; '' for gendisk's administrative ops, which no owner fences)
   * and, with `lease`, while the caller holds its batch's lease (LeaseLostError otherwise).
   */
  async run(
    disk: string,
    epoch: number | '',
    ops: readonly ZoneOp[],
    memoryBacked: boolean,
    lease?: { readonly leased: string; readonly member: Buffer },
  ): Promise<ZoneOpResult[]> {
    const keys = [this.keys.zones(disk), this.keys.owners(disk), this.keys.pageIndex(disk), lease?.leased ?? this.keys.zones(disk)];
    const args: ScriptArg[] = [
      epoch === '' ? '' : String(epoch),
      lease?.member ?? '',
      PAGE_SIZE,
      memoryBacked ? this.keys.pagePrefix(disk) : '',
    ];
    for (const op of ops) args.push(op.kind, op.sector, op.sectors);
    const reply = checkReply('runZoneOps', (await scriptsFor(this.redis).run('runZoneOps', keys, args)) as number | number[], disk);
    const out: ZoneOpResult[] = [];
    for (let i = 0; i < ops.length; i++) out.push({ status: reply[2 * i] as BlkStatus, sector: reply[2 * i + 1] });
    return out;
  }

  /**
   * The table as stored, for a census: its shape, the open / closed counters, and each
   * zone changed since the layout (`changed`; left out when more than `maxChanged` zones
   * changed, so one read stays bounded). Undefined when the disk has no table. Two reads,
   * not one snapshot: a zone that changes between them is seen as either read saw it.
   */
  async census(
    disk: string,
    maxChanged: number,
  ): Promise<
    | {
        shape: ZoneShape;
        counters: { impOpen: number; expOpen: number; closed: number };
        changed?: Map<number, { cond: ZoneCond; wp: number }>;
      }
    | undefined
  > {
    const key = this.keys.zones(disk);
    const [shape, fields] = await Promise.all([this.shape(disk), this.redis.hlen(key)]);
    if (!shape) return undefined;
    if (fields > TABLE_FIELDS.length + 2 * maxChanged) {
      const [imp, exp, closed] = await this.redis.hmget(key, 'imp', 'exp', 'closed');
      return { shape, counters: { impOpen: Number(imp ?? 0), expOpen: Number(exp ?? 0), closed: Number(closed ?? 0) } };
    }
    const table = await this.redis.hgetall(key);
    if (table.nr === undefined) return undefined; // dropped (powered off) between the reads
    const changed = new Map<number, { cond: ZoneCond; wp: number }>();
    for (const [field, value] of Object.entries(table)) {
      const m = CONDITION_FIELD.exec(field);
      if (m) changed.set(Number(m[1]), { cond: Number(value) as ZoneCond, wp: Number(table[`w${m[1]}`]) });
    }
    const counters = { impOpen: Number(table.imp ?? 0), expOpen: Number(table.exp ?? 0), closed: Number(table.closed ?? 0) };
    return { shape, counters, changed };
  }

  /** null_report_zones: up to `count` zones from the one that holds `sector` (none past the end). */
  async report(disk: string, sector: number, count: number): Promise<BlkZone[]> {
    const shape = await this.shape(disk);
    if (!shape) return [];
    const first = zoneNo(shape, sector);
    const zs: number[] = [];
    for (let z = Math.max(first, shape.nrConv); z < shape.nrZones && z < first + count; z++) zs.push(z);
    const fields = zs.flatMap((z) => [`c${z}`, `w${z}`]);
    const values = fields.length ? await this.redis.hmget(this.keys.zones(disk), ...fields) : [];
    const out: BlkZone[] = [];
    for (let z = first; z < shape.nrZones && z < first + count; z++) {
      const { start, len, capacity } = zoneExtent(shape, z);
      if (z < shape.nrConv) {
        out.push({ start, len, capacity, wp: start + len, type: ZoneType.CONVENTIONAL, cond: ZoneCond.NOT_WP });
        continue;
      }
      const i = z - zs[0]; // zs holds the sequential zones of the report, in order
      const cond = values[2 * i];
      const wp = values[2 * i + 1];
      const laidOut = shape.full ? { cond: ZoneCond.FULL, wp: start + capacity } : { cond: ZoneCond.EMPTY, wp: start };
      out.push({
        start,
        len,
        capacity,
        type: ZoneType.SEQWRITE_REQ,
        cond: cond === null ? laidOut.cond : (Number(cond) as ZoneCond),
        wp: wp === null ? laidOut.wp : Number(wp),
      });
    }
    return out;
  }
}
