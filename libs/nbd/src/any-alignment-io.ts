// The IO of a connection whose client did not ask for block sizes. The spec lets such a
// client use a minimum block size of 1 (doc/proto.md, "Size constraints": without
// advertised or agreed constraints a server "SHOULD support a default minimum block size
// of 1", and one that enforces stricter ones MUST error cleanly), while the
// device takes whole blocks of the export's minimum size, at most maxPayload at once. So
// reads are widened to whole blocks and cut back, writes and WRITE_ZEROES are a
// read-modify-write of the blocks they cover in part, and every command that changes data
// holds its blocks.
import { BlockRangeLock } from './block-range-lock';
import { blockSpan, partialBlocks, spanPieces } from './block-span';
import type { BlockCommand, BlockResult, BlockSession } from './nbd-backend';
import type { NbdExport } from './nbd-export';
import { NbdErrno } from './nbd-protocol';

/**
 * Invariants:
 *   - No command reaches the session unaligned or longer than the export's maxPayload.
 *   - A write, TRIM or WRITE_ZEROES holds the whole blocks under it from before its first
 *     read until its last write is done, in arrival order: two writes into one block never
 *     interleave their read and their write, so neither loses the other's bytes. This holds
 *     within the connection; another connection's writes are not held.
 */
export class AnyAlignmentIo {
  private readonly holds = new BlockRangeLock();

  constructor(
    private readonly exp: NbdExport,
    private readonly session: BlockSession,
  ) {}

  /**
   * [offset, offset + length): the whole blocks under it, read in pieces the device takes
   * (a misaligned read of maxPayload bytes spans one block more than that), cut back.
   * Resolves the data (exactly `length` bytes) or the first failure.
   */
  async read(offset: bigint, length: number): Promise<BlockResult> {
    const span = blockSpan(offset, length, this.exp.minBlock);
    const pieces = spanPieces(span, this.exp.maxPayload);
    const results = await Promise.all(pieces.map((p) => this.perform({ op: 'read', offset: p.offset, length: p.length, fua: false })));
    const failed = results.find((r) => r.errno !== NbdErrno.OK);
    if (failed) return failed;
    for (const [i, r] of results.entries()) {
      if (r.data?.length !== pieces[i].length)
        return { errno: NbdErrno.EIO, message: `the device returned ${r.data?.length ?? 0} bytes for a ${pieces[i].length}-byte read` };
    }
    const whole = results.length === 1 ? results[0].data! : Buffer.concat(results.map((r) => r.data!));
    const skip = Number(offset - span.start);
    return { errno: NbdErrno.OK, data: whole.subarray(skip, skip + length) };
  }

  /**
   * `data` at `offset`: the blocks it covers in part are read, `data` laid over them, and
   * the whole blocks written in pieces of at most maxPayload, all while they are held.
   * Resolves the first failure, or undefined; a failed read writes nothing.
   */
  async write(offset: bigint, data: Buffer, fua: boolean): Promise<BlockResult | undefined> {
    const bs = this.exp.minBlock;
    const span = blockSpan(offset, data.length, bs);
    const release = await this.holds.acquire(span.start, span.end);
    try {
      let bytes = data;
      const partial = partialBlocks(span, offset, data.length, bs);
      if (partial.length > 0) {
        bytes = Buffer.alloc(Number(span.end - span.start));
        const old = await Promise.all(partial.map((at) => this.perform({ op: 'read', offset: at, length: bs, fua: false })));
        const failed = old.find((r) => r.errno !== NbdErrno.OK || r.data?.length !== bs);
        if (failed) return failed.errno !== NbdErrno.OK ? failed : { errno: NbdErrno.EIO, message: 'the device returned a short block' };
        old.forEach((r, i) => r.data!.copy(bytes, Number(partial[i] - span.start)));
        data.copy(bytes, Number(offset - span.start));
      }
      const writes = spanPieces(span, this.exp.maxPayload).map((p) => {
        const at = Number(p.offset - span.start);
        return this.perform({ op: 'write', offset: p.offset, length: p.length, data: bytes.subarray(at, at + p.length), fua });
      });
      return (await Promise.all(writes)).find((r) => r.errno !== NbdErrno.OK);
    } finally {
      release();
    }
  }

  /**
   * WRITE_ZEROES of [offset, offset + length): the blocks it covers in part are read, the
   * covered bytes zeroed and the blocks written back; the whole blocks between them are
   * `whole(start, end)` (the caller's write-zeroes, or zeros written for NO_HOLE). All
   * while the blocks are held. Resolves the first failure, or undefined.
   */
  async zero(
    offset: bigint,
    length: number,
    fua: boolean,
    whole: (start: bigint, end: bigint) => BlockCommand[],
  ): Promise<BlockResult | undefined> {
    const bs = this.exp.minBlock;
    const big = BigInt(bs);
    const end = offset + BigInt(length);
    const span = blockSpan(offset, length, bs);
    const release = await this.holds.acquire(span.start, span.end);
    try {
      const partial = partialBlocks(span, offset, length, bs);
      const old = await Promise.all(partial.map((at) => this.perform({ op: 'read', offset: at, length: bs, fua: false })));
      const failed = old.find((r) => r.errno !== NbdErrno.OK || r.data?.length !== bs);
      if (failed) return failed.errno !== NbdErrno.OK ? failed : { errno: NbdErrno.EIO, message: 'the device returned a short block' };
      const edges = partial.map((at, i) => {
        const block = Buffer.from(old[i].data!);
        block.fill(0, Number((offset > at ? offset : at) - at), Number((end < at + big ? end : at + big) - at));
        return this.perform({ op: 'write', offset: at, length: bs, data: block, fua });
      });
      const innerStart = ((offset + big - 1n) / big) * big;
      const innerEnd = (end / big) * big;
      const inner = innerEnd > innerStart ? whole(innerStart, innerEnd).map((part) => this.perform(part)) : [];
      return (await Promise.all([...edges, ...inner])).find((r) => r.errno !== NbdErrno.OK);
    } finally {
      release();
    }
  }

  /** Runs `parts` (a TRIM's or WRITE_ZEROES', consecutive and aligned) while their blocks are held. */
  async runHeld(parts: BlockCommand[]): Promise<BlockResult | undefined> {
    const last = parts[parts.length - 1];
    const release = await this.holds.acquire(parts[0].offset, last.offset + BigInt(last.length));
    try {
      return (await Promise.all(parts.map((part) => this.perform(part)))).find((r) => r.errno !== NbdErrno.OK);
    } finally {
      release();
    }
  }

  /** `cmd` on the session, as a promise (the session never throws: BlockSession's contract). */
  private perform(cmd: BlockCommand): Promise<BlockResult> {
    return new Promise((resolve) => this.session.submit(cmd, resolve));
  }
}
