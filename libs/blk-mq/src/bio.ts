// Mirrors `struct bio` with its `bio_vec`s and `bvec_iter`, as the Rust `Bio`,
// `BioIterator` and `Segment` of the rnull RFC expose them to a driver.

import { ReqOp, opHasData, reqFlagsName, reqOpName } from './req-op';

export const SECTOR_SHIFT = 9;
export const SECTOR_SIZE = 1 << SECTOR_SHIFT;
export const PAGE_SIZE = 4096;

/**
 * One `bio_vec`: a run of bytes inside one page of the submitter's buffer, starting at
 * `sector` on the disk. Pages are numbered from the start of the submitter's buffer.
 */
export class Segment {
  constructor(
    readonly sector: number,
    readonly bytes: number,
    readonly page: number,
    readonly offset: number,
    private readonly buffer: Uint8Array,
  ) {}

  /** The segment's bytes, as a view into the submitter's buffer (no copy). */
  get data(): Uint8Array {
    const start = this.page * PAGE_SIZE + this.offset;
    return this.buffer.subarray(start, start + this.bytes);
  }

  /** Copies the segment into `dst` at `dstOffset` (a write: bio -> driver page). */
  copyToPage(dst: Uint8Array, dstOffset = 0): void {
    if (dstOffset < 0 || dstOffset + this.bytes > dst.length) {
      throw new RangeError(`${this}: copyToPage at ${dstOffset} overruns a ${dst.length} B destination`);
    }
    dst.set(this.data, dstOffset);
  }

  /** Fills the segment from `src` at `srcOffset` (a read: driver page -> bio). */
  copyFromPage(src: Uint8Array, srcOffset = 0): void {
    if (srcOffset < 0 || srcOffset + this.bytes > src.length) {
      throw new RangeError(`${this}: copyFromPage at ${srcOffset} overruns a ${src.length} B source`);
    }
    this.data.set(src.subarray(srcOffset, srcOffset + this.bytes));
  }

  /** Fills the segment with zeros (a read of never-written sectors). */
  zero(): void {
    this.data.fill(0);
  }

  toString(): string {
    return `Segment{sector ${this.sector}, ${this.bytes} B @ page ${this.page}+${this.offset}}`;
  }
}

/** What a bio is made of. `buffer` is the submitter's; the bio covers `bytes` of it from `bufferOffset`. */
export interface BioInit {
  readonly op: ReqOp;
  readonly sector: number;
  readonly bytes: number;
  readonly flags?: number;
  readonly buffer?: Uint8Array;
  readonly bufferOffset?: number;
}

/**
 * A contiguous range of sectors and, for READ and WRITE, the buffer it moves.
 *
 * Invariants: `buffer` is present exactly for ops with data, and covers
 * `bufferOffset .. bufferOffset + bytes`.
 */
export class Bio {
  readonly op: ReqOp;
  readonly sector: number;
  readonly bytes: number;
  readonly flags: number;
  readonly buffer: Uint8Array | undefined;
  readonly bufferOffset: number;

  constructor(init: BioInit) {
    this.op = init.op;
    this.sector = init.sector;
    this.bytes = init.bytes;
    this.flags = init.flags ?? 0;
    this.bufferOffset = init.bufferOffset ?? 0;
    this.buffer = opHasData(init.op) ? init.buffer : undefined;
    if (opHasData(init.op) && (!this.buffer || this.bufferOffset + this.bytes > this.buffer.length)) {
      throw new RangeError(`${reqOpName(init.op)} bio of ${this.bytes} B needs a buffer covering it`);
    }
  }

  /** Length in 512-byte sectors. */
  get sectors(): number {
    return this.bytes >> SECTOR_SHIFT;
  }

  /** First sector after the bio. */
  get endSector(): number {
    return this.sector + this.sectors;
  }

  /** Segments `segments()` yields (pages of the buffer it touches); 0 without data. */
  get segmentCount(): number {
    if (!this.buffer || this.bytes === 0) return 0;
    return Math.ceil(((this.bufferOffset % PAGE_SIZE) + this.bytes) / PAGE_SIZE);
  }

  /** The bio's data as one view (READ / WRITE), or undefined. */
  get data(): Uint8Array | undefined {
    return this.buffer?.subarray(this.bufferOffset, this.bufferOffset + this.bytes);
  }

  /** Iterates the segments; ops without data have none. */
  segments(): BioIterator {
    return new BioIterator(this);
  }

  [Symbol.iterator](): BioIterator {
    return this.segments();
  }

  toString(): string {
    const n = [...this.segments()].length;
    return `Bio{${reqOpName(this.op)} sector ${this.sector}, ${this.bytes} B, ${n} segments, ${reqFlagsName(this.flags)}}`;
  }
}

/** Mirrors `bvec_iter` walking a bio: yields segments that never cross a page of the buffer. */
export class BioIterator implements IterableIterator<Segment> {
  private done = 0;

  constructor(private readonly bio: Bio) {}

  /** Bytes not yet yielded. */
  get remaining(): number {
    return this.bio.buffer ? this.bio.bytes - this.done : 0;
  }

  next(): IteratorResult<Segment> {
    const buf = this.bio.buffer;
    if (!buf || this.done >= this.bio.bytes) return { done: true, value: undefined };
    const at = this.bio.bufferOffset + this.done;
    const offset = at % PAGE_SIZE;
    const bytes = Math.min(PAGE_SIZE - offset, this.bio.bytes - this.done);
    const seg = new Segment(this.bio.sector + (this.done >> SECTOR_SHIFT), bytes, Math.floor(at / PAGE_SIZE), offset, buf);
    this.done += bytes;
    return { done: false, value: seg };
  }

  [Symbol.iterator](): BioIterator {
    return this;
  }
}
