// `rnullctl io …`: single block IOs over the unary blk.v1.BlockDevice/Submit — write a
// file, read to a file or stdout, flush, discard, write zeroes, zone append.
//
// Contract:
//   - Offsets are 512-byte sectors (as the kernel counts); lengths are bytes and must be a
//     multiple of the disk's block size, checked against GetDisk before any IO is sent, so
//     bad input never leaves a partial write behind.
//   - Long ranges are split into requests of at most IO_CHUNK_BYTES (payload ops) or
//     RANGE_CHUNK_BYTES (discard / write zeroes), sent one after another.
//   - A Completion that is not STATUS_OK fails the command with its status name, the
//     server's message and the sector it covered.
import { promises as fs } from 'node:fs';
import { Completion, Flag, Op, statusToJSON, Status, Submission } from '#proto/grpc/blk/v1/block_device';
import { Disk } from '#proto/grpc/blk/v1/gen_disk';
import { OptionSpecs, ParsedArgs, parseBigInt, parseByteCount } from './arg-parser';
import { CliError, Command, CommandContext, readAll, requireValue, writeOut } from './command';
import { RnullClients, withClients } from './grpc-clients';

/** Largest payload of one WRITE/READ request (well under gRPC's 4 MiB default message cap). */
export const IO_CHUNK_BYTES = 1 << 20;
/** Largest DISCARD / WRITE_ZEROES request (no payload; bounded by the uint32 length field). */
export const RANGE_CHUNK_BYTES = 1 << 30;

const SECTOR_BYTES = 512n;

const DISK_OPTION: OptionSpecs = { disk: { kind: 'value', valueName: 'NAME', help: 'disk name, e.g. rnullb0 (required)' } };
const SECTOR_OPTION: OptionSpecs = {
  sector: { kind: 'value', valueName: 'S', help: 'start in 512-byte sectors, aligned to the block size (required)' },
};
const LENGTH_OPTION: OptionSpecs = {
  length: { kind: 'value', valueName: 'N', help: 'bytes, a multiple of the block size; k/m/g suffixes ok (required)' },
};

/** A checked range of one disk. */
interface Extent {
  readonly disk: Disk;
  readonly sector: bigint;
  readonly bytes: bigint;
}

/** Fetches the disk and checks that [sector, sector + bytes) is block-aligned and on it. */
async function checkExtent(clients: RnullClients, name: string, sector: bigint, bytes: bigint, what: string): Promise<Extent> {
  const disk = await clients.getDisk(name);
  const blocksize = disk.attributes?.blocksize;
  if (blocksize !== undefined) {
    if (bytes % BigInt(blocksize) !== 0n) {
      throw new CliError(`${what} is ${bytes} bytes, not a multiple of disk ${name}'s block size ${blocksize}`);
    }
    if ((sector * SECTOR_BYTES) % BigInt(blocksize) !== 0n) {
      throw new CliError(
        `sector ${sector} is not aligned to disk ${name}'s block size ${blocksize} (use a multiple of ${blocksize / 512})`,
      );
    }
  }
  const endSector = sector + bytes / SECTOR_BYTES;
  if (endSector > disk.capacitySectors) {
    throw new CliError(`sectors ${sector}..${endSector - 1n} run past the end of disk ${name} (${disk.capacitySectors} sectors)`);
  }
  return { disk, sector, bytes };
}

let nextTag = 1n;

/**
 * Submits one IO; a non-OK completion becomes a CliError naming status, message and
 * range (a payload-free op such as FLUSH or a zone management op shows no byte count).
 */
export async function submitChecked(clients: RnullClients, sub: Omit<Submission, 'tag'>): Promise<Completion> {
  const c = await clients.submit({ ...sub, tag: nextTag++ });
  if (c.status !== Status.STATUS_OK) {
    const what = `${opName(sub.op)} ${sub.disk} sector ${sub.sector}${sub.length > 0 ? ` (${sub.length} bytes)` : ''}`;
    throw new CliError(`${what} completed with ${statusToJSON(c.status)}: ${c.message || '(no message)'}`);
  }
  return c;
}

/** `OP_ZONE_OPEN` → `ZONE_OPEN`. */
export function opName(op: Op): string {
  return Op[op]?.replace(/^OP_/, '') ?? `op ${op}`;
}

/** Splits an extent into [sector, bytes] pieces of at most `chunk` bytes (a multiple of the block size). */
function* pieces(extent: Extent, chunk: number): Generator<[sector: bigint, offset: number, bytes: number]> {
  const bs = BigInt(extent.disk.attributes?.blocksize ?? 512);
  const step = (BigInt(chunk) / bs) * bs;
  for (let off = 0n; off < extent.bytes; off += step) {
    const n = extent.bytes - off < step ? extent.bytes - off : step;
    yield [extent.sector + off / SECTOR_BYTES, Number(off), Number(n)];
  }
}

function submitFlags(args: ParsedArgs): number {
  return (args.flags.has('fua') ? Flag.FLAG_FUA : 0) | (args.flags.has('preflush') ? Flag.FLAG_PREFLUSH : 0);
}

async function readInput(ctx: CommandContext, file: string): Promise<Buffer> {
  if (file === '-') return readAll(ctx.io.stdin);
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

const write: Command = {
  words: ['io', 'write'],
  usage: '',
  summary: 'write a file (or stdin with --file -) to a disk at a sector',
  positionals: { min: 0, max: 0 },
  options: {
    ...DISK_OPTION,
    ...SECTOR_OPTION,
    file: { kind: 'value', valueName: 'F', help: "data to write, a multiple of the block size; '-' for stdin (required)" },
    fua: { kind: 'flag', help: 'set REQ_FUA on every request' },
    preflush: { kind: 'flag', help: 'set REQ_PREFLUSH on every request' },
  },
  async run(args, ctx) {
    const disk = requireValue(args, 'disk');
    const sector = parseBigInt(requireValue(args, 'sector'), '--sector');
    const file = requireValue(args, 'file');
    const data = await readInput(ctx, file);
    const label = file === '-' ? 'stdin' : file;
    if (data.length === 0) throw new CliError(`${label} is empty: nothing to write`);
    await withClients(ctx, async (c) => {
      const extent = await checkExtent(c, disk, sector, BigInt(data.length), label);
      for (const [s, off, n] of pieces(extent, IO_CHUNK_BYTES)) {
        const payload = data.subarray(off, off + n);
        await submitChecked(c, { disk, op: Op.OP_WRITE, sector: s, length: n, data: payload, flags: submitFlags(args) });
      }
    });
    await writeOut(ctx.io.stdout, `wrote ${data.length} bytes to ${disk} at sector ${sector}\n`);
  },
};

const read: Command = {
  words: ['io', 'read'],
  usage: '',
  summary: 'read bytes from a disk at a sector: raw to stdout, or to a file with --out',
  positionals: { min: 0, max: 0 },
  options: {
    ...DISK_OPTION,
    ...SECTOR_OPTION,
    ...LENGTH_OPTION,
    out: { kind: 'value', valueName: 'F', help: 'write the data to F instead of stdout' },
  },
  async run(args, ctx) {
    const disk = requireValue(args, 'disk');
    const sector = parseBigInt(requireValue(args, 'sector'), '--sector');
    const length = parseByteCount(requireValue(args, 'length'), '--length');
    const out = args.values.get('out');
    if (out === undefined && ctx.io.stdout.isTTY) {
      throw new CliError('refusing to write raw bytes to a terminal: give --out F or pipe stdout (e.g. | xxd)');
    }
    const chunks: Buffer[] = [];
    await withClients(ctx, async (c) => {
      const extent = await checkExtent(c, disk, sector, length, '--length');
      for (const [s, , n] of pieces(extent, IO_CHUNK_BYTES)) {
        const done = await submitChecked(c, { disk, op: Op.OP_READ, sector: s, length: n, data: Buffer.alloc(0), flags: 0 });
        if (done.data.length !== n) throw new CliError(`short read at sector ${s}: asked ${n} bytes, got ${done.data.length}`);
        if (out === undefined) await writeOut(ctx.io.stdout, done.data);
        else chunks.push(done.data);
      }
    });
    if (out === undefined) return;
    try {
      await fs.writeFile(out, Buffer.concat(chunks));
    } catch (e) {
      throw new CliError(`cannot write ${out}: ${(e as Error).message}`);
    }
    await writeOut(ctx.io.stdout, `read ${length} bytes from ${disk} at sector ${sector} to ${out}\n`);
  },
};

/** A payload-free ranged op (DISCARD, WRITE_ZEROES) as a command. */
function rangeCommand(word: string, op: Op, summary: string, verb: string): Command {
  return {
    words: ['io', word],
    usage: '',
    summary,
    positionals: { min: 0, max: 0 },
    options: { ...DISK_OPTION, ...SECTOR_OPTION, ...LENGTH_OPTION },
    async run(args, ctx) {
      const disk = requireValue(args, 'disk');
      const sector = parseBigInt(requireValue(args, 'sector'), '--sector');
      const length = parseByteCount(requireValue(args, 'length'), '--length');
      await withClients(ctx, async (c) => {
        const extent = await checkExtent(c, disk, sector, length, '--length');
        for (const [s, , n] of pieces(extent, RANGE_CHUNK_BYTES)) {
          await submitChecked(c, { disk, op, sector: s, length: n, data: Buffer.alloc(0), flags: 0 });
        }
      });
      await writeOut(ctx.io.stdout, `${verb} ${length} bytes of ${disk} at sector ${sector}\n`);
    },
  };
}

const append: Command = {
  words: ['io', 'append'],
  usage: '',
  summary: 'zone append a file (REQ_OP_ZONE_APPEND) to the zone that starts at --sector; prints where it landed',
  positionals: { min: 0, max: 0 },
  options: {
    ...DISK_OPTION,
    sector: { kind: 'value', valueName: 'S', help: 'the first sector of a sequential zone (required)' },
    file: { kind: 'value', valueName: 'F', help: "data to append, a multiple of the block size; '-' for stdin (required)" },
    fua: { kind: 'flag', help: 'set REQ_FUA on every request' },
  },
  details:
    'A zoned disk (zoned=1) only. The data lands at the write pointer of the zone, which the ' +
    'completion reports: one line per request (a file over 1 MiB, or over zone_append_max_sectors, ' +
    'is appended in pieces, in order).',
  async run(args, ctx) {
    const disk = requireValue(args, 'disk');
    const sector = parseBigInt(requireValue(args, 'sector'), '--sector');
    const file = requireValue(args, 'file');
    const data = await readInput(ctx, file);
    const label = file === '-' ? 'stdin' : file;
    if (data.length === 0) throw new CliError(`${label} is empty: nothing to append`);
    await withClients(ctx, async (c) => {
      const extent = await checkExtent(c, disk, sector, BigInt(data.length), label);
      // zone_append_max_sectors below one block means emulated appends: no limit of their own.
      const appendMaxBytes = (extent.disk.attributes?.zoneAppendMaxSectors ?? 0) * Number(SECTOR_BYTES);
      const chunk =
        appendMaxBytes >= (extent.disk.attributes?.blocksize ?? 512) ? Math.min(IO_CHUNK_BYTES, appendMaxBytes) : IO_CHUNK_BYTES;
      for (const [, off, n] of pieces(extent, chunk)) {
        const payload = data.subarray(off, off + n);
        const done = await submitChecked(c, { disk, op: Op.OP_ZONE_APPEND, sector, length: n, data: payload, flags: submitFlags(args) });
        await writeOut(ctx.io.stdout, `appended ${n} bytes to ${disk} zone ${sector}: landed at sector ${done.sector}\n`);
      }
    });
  },
};

const flush: Command = {
  words: ['io', 'flush'],
  usage: '',
  summary: 'flush the disk (REQ_OP_FLUSH)',
  positionals: { min: 0, max: 0 },
  options: DISK_OPTION,
  async run(args, ctx) {
    const disk = requireValue(args, 'disk');
    await withClients(ctx, (c) => submitChecked(c, { disk, op: Op.OP_FLUSH, sector: 0n, length: 0, data: Buffer.alloc(0), flags: 0 }));
    await writeOut(ctx.io.stdout, `flushed ${disk}\n`);
  },
};

export const IO_COMMANDS: readonly Command[] = [
  write,
  append,
  read,
  flush,
  rangeCommand('discard', Op.OP_DISCARD, 'discard a range (REQ_OP_DISCARD; the disk needs discard=1)', 'discarded'),
  rangeCommand('write-zeroes', Op.OP_WRITE_ZEROES, 'write zeroes over a range (REQ_OP_WRITE_ZEROES)', 'zeroed'),
];
