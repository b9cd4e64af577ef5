// Mirrors the kernel's request list handed to `queue_rqs` and the completion batch
// (`struct io_comp_batch`): the one wire codec of the v2 data path (DESIGN §5).
//
// Packed little-endian binary with named fields. Lua reads the same bytes with
// `struct.unpack` and the format strings exported here (the scripts' headers repeat them).
//
//   message   = header, `count` records, then (kind End only) the appended read data
//   header    <c2BBHHI4I4d  24 B  magic 'rq', version 2, kind, hctx, count, epoch, seq, atMs
//   request   <HI4BBI4d     20 B  tag, gen, op, flags, bytes, sector        (kind Batch)
//   end       <HI4BBI4d     20 B  tag, gen, status, hasData, dataBytes, sector (End, Softirq, Timer)
//   requestId <I4HHI4       12 B  epoch, hctx, tag, gen; readDataId = requestId .. 'r'
//
// Contracts:
//   - Every encoder checks every field against its width and throws a `CodecError` naming
//     the field; nothing out of range is ever truncated silently.
//   - Every decoder checks magic, version, kind and exact length and throws a `CodecError`
//     naming what is wrong (I5: bad input gets an error that names the problem).
//   - `decodeEnds` returns read data as zero-copy `subarray`s of its input.
//   - The read data of an End message is appended by `endBatch-6.lua`; Softirq and Timer
//     messages carry none (their data waits in `rqdata` under `readDataId`).

/** The magic of every message: the two bytes `rq`. */
export const MESSAGE_MAGIC = 'rq';
/** The one codec version this module reads and writes. */
/** 2: end records carry a zone append's landed sector. */
export const MESSAGE_VERSION = 2;

/** `struct.pack` format of the message header (Lua side). */
export const HEADER_FORMAT = '<c2BBHHI4I4d';
/** `struct.pack` format of a request record of a Batch message. */
export const REQUEST_FORMAT = '<HI4BBI4d';
/** `struct.pack` format of an end record of an End, Softirq or Timer message. */
export const END_FORMAT = '<HI4BBI4d';
/** `struct.pack` format of a request id. */
export const REQUEST_ID_FORMAT = '<I4HHI4';

export const HEADER_BYTES = 24;
export const REQUEST_BYTES = 20;
export const END_BYTES = 20;
export const REQUEST_ID_BYTES = 12;
/** A read-data id is the request id followed by the byte `r`. */
export const READ_DATA_ID_BYTES = REQUEST_ID_BYTES + 1;
/** The most records one message holds (the header's `count` is 16 bits). */
export const MAX_RECORDS = 0xffff;

export enum MessageKind {
  /** Dispatch -> driver: requests to run (request records). */
  Batch = 1,
  /** Driver or completion -> owner: ends (end records, then appended read data). */
  End = 2,
  /** Driver -> completion: ends to deliver from softirq context (irqmode 1). */
  Softirq = 3,
  /** Driver -> completion: ends due at `atMs` (irqmode 2). */
  Timer = 4,
}

export type EndKind = MessageKind.End | MessageKind.Softirq | MessageKind.Timer;

export interface MessageHeader {
  kind: MessageKind;
  hctx: number;
  count: number;
  epoch: number;
  seq: number;
  /** ms since the epoch: queued (Batch), due (Timer), or made (End, Softirq). */
  atMs: number;
}

/** The header fields a caller chooses; kind and count come from the encoder. */
export type HeaderFields = Pick<MessageHeader, 'hctx' | 'epoch' | 'seq' | 'atMs'>;

export interface RequestRecord {
  tag: number;
  gen: number;
  /** Block op number (`libs/blk-mq`'s op enum); 1 is WRITE and carries a payload. */
  op: number;
  flags: number;
  bytes: number;
  sector: number;
}

export interface EndRecord {
  tag: number;
  gen: number;
  /** BlkStatus number. */
  status: number;
  /** True when read data rides with this end (`dataBytes` of it). */
  hasData: boolean;
  dataBytes: number;
  /** A ZONE_APPEND that ended OK: the sector it landed at; 0 for any other end. */
  sector: number;
}

/** A malformed or out-of-range message or field; `field` names it. */
export class CodecError extends RangeError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`batch codec: ${field}: ${message}`);
    this.name = 'CodecError';
  }
}

const MAX = { u8: 0xff, u16: 0xffff, u32: 0xffffffff } as const;

function checkUint(field: string, value: number, width: keyof typeof MAX): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX[width]) {
    throw new CodecError(field, `${value} is not an integer in 0..${MAX[width]}`);
  }
  return value;
}

function writeHeader(b: Buffer, kind: MessageKind, count: number, h: HeaderFields): void {
  if (!Number.isFinite(h.atMs)) throw new CodecError('atMs', `${h.atMs} is not a finite number`);
  b.write(MESSAGE_MAGIC, 0, 'latin1');
  b.writeUInt8(MESSAGE_VERSION, 2);
  b.writeUInt8(kind, 3);
  b.writeUInt16LE(checkUint('hctx', h.hctx, 'u16'), 4);
  b.writeUInt16LE(checkUint('count', count, 'u16'), 6);
  b.writeUInt32LE(checkUint('epoch', h.epoch, 'u32'), 8);
  b.writeUInt32LE(checkUint('seq', h.seq, 'u32'), 12);
  b.writeDoubleLE(h.atMs, 16);
}

/** Reads and checks a header; `kinds` are the kinds the caller accepts. */
export function decodeHeader(b: Buffer, kinds: readonly MessageKind[] = [1, 2, 3, 4]): MessageHeader {
  if (!Buffer.isBuffer(b)) throw new CodecError('message', 'not a Buffer');
  if (b.length < HEADER_BYTES) throw new CodecError('header', `truncated: ${b.length} of ${HEADER_BYTES} bytes`);
  if (b.toString('latin1', 0, 2) !== MESSAGE_MAGIC) throw new CodecError('magic', `bad magic 0x${b.toString('hex', 0, 2)}`);
  const version = b.readUInt8(2);
  if (version !== MESSAGE_VERSION) throw new CodecError('version', `unknown version ${version}`);
  const kind = b.readUInt8(3) as MessageKind;
  if (!kinds.includes(kind)) throw new CodecError('kind', `kind ${kind} where ${kinds.join(' or ')} is wanted`);
  return {
    kind,
    hctx: b.readUInt16LE(4),
    count: b.readUInt16LE(6),
    epoch: b.readUInt32LE(8),
    seq: b.readUInt32LE(12),
    atMs: b.readDoubleLE(16),
  };
}

/** A Batch message of `rqs` (at most MAX_RECORDS). */
export function encodeBatch(h: HeaderFields, rqs: readonly RequestRecord[]): Buffer {
  if (rqs.length > MAX_RECORDS) throw new CodecError('count', `${rqs.length} records; at most ${MAX_RECORDS}`);
  const b = Buffer.allocUnsafe(HEADER_BYTES + rqs.length * REQUEST_BYTES);
  writeHeader(b, MessageKind.Batch, rqs.length, h);
  rqs.forEach((r, i) => {
    const at = HEADER_BYTES + i * REQUEST_BYTES;
    if (!Number.isSafeInteger(r.sector) || r.sector < 0) {
      throw new CodecError(`rqs[${i}].sector`, `${r.sector} is not a safe integer >= 0`);
    }
    b.writeUInt16LE(checkUint(`rqs[${i}].tag`, r.tag, 'u16'), at);
    b.writeUInt32LE(checkUint(`rqs[${i}].gen`, r.gen, 'u32'), at + 2);
    b.writeUInt8(checkUint(`rqs[${i}].op`, r.op, 'u8'), at + 6);
    b.writeUInt8(checkUint(`rqs[${i}].flags`, r.flags, 'u8'), at + 7);
    b.writeUInt32LE(checkUint(`rqs[${i}].bytes`, r.bytes, 'u32'), at + 8);
    b.writeDoubleLE(r.sector, at + 12);
  });
  return b;
}

export function decodeBatch(b: Buffer): { header: MessageHeader; rqs: RequestRecord[] } {
  const header = decodeHeader(b, [MessageKind.Batch]);
  const want = HEADER_BYTES + header.count * REQUEST_BYTES;
  if (b.length !== want) throw new CodecError('length', `${b.length} bytes where ${header.count} records make ${want}`);
  const rqs: RequestRecord[] = [];
  for (let i = 0; i < header.count; i++) {
    const at = HEADER_BYTES + i * REQUEST_BYTES;
    const sector = b.readDoubleLE(at + 12);
    if (!Number.isSafeInteger(sector) || sector < 0) throw new CodecError(`rqs[${i}].sector`, `${sector} is not a safe integer >= 0`);
    rqs.push({
      tag: b.readUInt16LE(at),
      gen: b.readUInt32LE(at + 2),
      op: b.readUInt8(at + 6),
      flags: b.readUInt8(at + 7),
      bytes: b.readUInt32LE(at + 8),
      sector,
    });
  }
  return { header, rqs };
}

/** An End, Softirq or Timer message of `ends`, without read data (the scripts append it). */
export function encodeEnds(kind: EndKind, h: HeaderFields, ends: readonly EndRecord[]): Buffer {
  if (kind !== MessageKind.End && kind !== MessageKind.Softirq && kind !== MessageKind.Timer) {
    throw new CodecError('kind', `kind ${String(kind)} is not End, Softirq or Timer`);
  }
  if (ends.length > MAX_RECORDS) throw new CodecError('count', `${ends.length} records; at most ${MAX_RECORDS}`);
  const b = Buffer.allocUnsafe(HEADER_BYTES + ends.length * END_BYTES);
  writeHeader(b, kind, ends.length, h);
  ends.forEach((e, i) => {
    const at = HEADER_BYTES + i * END_BYTES;
    if (typeof e.hasData !== 'boolean') throw new CodecError(`ends[${i}].hasData`, `${String(e.hasData)} is not a boolean`);
    b.writeUInt16LE(checkUint(`ends[${i}].tag`, e.tag, 'u16'), at);
    b.writeUInt32LE(checkUint(`ends[${i}].gen`, e.gen, 'u32'), at + 2);
    b.writeUInt8(checkUint(`ends[${i}].status`, e.status, 'u8'), at + 6);
    b.writeUInt8(e.hasData ? 1 : 0, at + 7);
    b.writeUInt32LE(checkUint(`ends[${i}].dataBytes`, e.dataBytes, 'u32'), at + 8);
    if (!Number.isSafeInteger(e.sector) || e.sector < 0) throw new CodecError(`ends[${i}].sector`, `${e.sector} is not a sector`);
    b.writeDoubleLE(e.sector, at + 12);
  });
  return b;
}

/**
 * Decodes an End message (records, then exactly the read data of its hasData records) or
 * a Softirq / Timer message (records only). `data[i]` is record i's read data, a view of `b`.
 */
export function decodeEnds(b: Buffer): { header: MessageHeader; ends: EndRecord[]; data: (Buffer | undefined)[] } {
  const header = decodeHeader(b, [MessageKind.End, MessageKind.Softirq, MessageKind.Timer]);
  const recordsEnd = HEADER_BYTES + header.count * END_BYTES;
  if (b.length < recordsEnd)
    throw new CodecError('length', `truncated: ${b.length} bytes where ${header.count} records need ${recordsEnd}`);
  const ends: EndRecord[] = [];
  const data: (Buffer | undefined)[] = [];
  let at = recordsEnd;
  for (let i = 0; i < header.count; i++) {
    const r = HEADER_BYTES + i * END_BYTES;
    const flag = b.readUInt8(r + 7);
    if (flag > 1) throw new CodecError(`ends[${i}].hasData`, `${flag} is not 0 or 1`);
    const e: EndRecord = {
      tag: b.readUInt16LE(r),
      gen: b.readUInt32LE(r + 2),
      status: b.readUInt8(r + 6),
      hasData: flag === 1,
      dataBytes: b.readUInt32LE(r + 8),
      sector: b.readDoubleLE(r + 12),
    };
    ends.push(e);
    if (e.hasData && header.kind === MessageKind.End) {
      if (at + e.dataBytes > b.length) throw new CodecError(`ends[${i}].data`, `truncated: ${b.length - at} of ${e.dataBytes} bytes`);
      data.push(b.subarray(at, at + e.dataBytes));
      at += e.dataBytes;
    } else {
      data.push(undefined);
    }
  }
  if (at !== b.length) throw new CodecError('length', `${b.length - at} bytes after the last record's data`);
  return { header, ends, data };
}

/** The request id `(epoch, hctx, tag, gen)`: the `rqdata` field of a write payload. */
export function requestId(epoch: number, hctx: number, tag: number, gen: number): Buffer {
  const b = Buffer.allocUnsafe(REQUEST_ID_BYTES);
  b.writeUInt32LE(checkUint('epoch', epoch, 'u32'), 0);
  b.writeUInt16LE(checkUint('hctx', hctx, 'u16'), 4);
  b.writeUInt16LE(checkUint('tag', tag, 'u16'), 6);
  b.writeUInt32LE(checkUint('gen', gen, 'u32'), 8);
  return b;
}

/** `requestId(...)` followed by `r`: the `rqdata` field of a read's data in transit. */
export function readDataId(epoch: number, hctx: number, tag: number, gen: number): Buffer {
  return Buffer.concat([requestId(epoch, hctx, tag, gen), Buffer.from('r', 'latin1')]);
}
