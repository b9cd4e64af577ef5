// How a zone report is shown: the `zone report` table (the columns of util-linux's
// `blkzone report`: start, length, capacity, write pointer, type, condition, in 512-byte
// sectors) and the `--json` objects. Types and conditions are named as the kernel names
// them (`enum blk_zone_type`, `enum blk_zone_cond`): the wire carries the kernel's numbers.
import { ZoneCond, ZoneType } from '#blk-mq';
import { Zone } from '#proto/grpc/blk/v1/block_device';
import { jsonInteger } from './disk-attributes';
import { renderTable } from './text-format';

/** The wire's write pointer of a READ_ONLY / OFFLINE zone (null_blk's NULL_ZONE_INVALID_WP). */
const WIRE_NO_WRITE_POINTER = 2n ** 64n - 1n;

/** `ZONE_COND_EMPTY` (1) → `EMPTY`; an unknown number stays a number. */
export function zoneCondName(cond: number): string {
  return ZoneCond[cond] ?? String(cond);
}

/** `ZONE_TYPE_SEQWRITE_REQ` (2) → `SEQWRITE_REQ`. */
export function zoneTypeName(type: number): string {
  return ZoneType[type] ?? String(type);
}

/** The write pointer of `z`, or undefined for a zone that has none (READ_ONLY, OFFLINE). */
function writePointer(z: Zone): bigint | undefined {
  return z.wp === WIRE_NO_WRITE_POINTER ? undefined : z.wp;
}

/** The `zone report` table: one row per zone, `-` for a zone without a write pointer. */
export function renderZoneTable(zones: readonly Zone[]): string {
  const rows = zones.map((z) => [
    String(z.start),
    String(z.len),
    String(z.capacity),
    String(writePointer(z) ?? '-'),
    zoneTypeName(z.type),
    zoneCondName(z.cond),
  ]);
  return renderTable(['START', 'LEN', 'CAP', 'WP', 'TYPE', 'COND'], rows);
}

/** One zone as a JSON-ready object (sectors; `wp` null when the zone has none). */
export function zoneToJson(z: Zone): Record<string, unknown> {
  const wp = writePointer(z);
  return {
    start: jsonInteger(z.start),
    len: jsonInteger(z.len),
    capacity: jsonInteger(z.capacity),
    wp: wp === undefined ? null : jsonInteger(wp),
    type: zoneTypeName(z.type),
    cond: zoneCondName(z.cond),
  };
}
