// Mirrors `struct badblocks` (block/badblocks.c) as null_blk uses it: the bad sector
// ranges of a disk, set and cleared through the `badblocks` configfs file
// (`nullb_device_badblocks_store`: "+START-END" / "-START-END", inclusive 512-byte
// sectors) and listed by `badblocks_show` as "START LENGTH" lines.

/** `BB_MAX_LEN`: one badblocks entry covers at most 512 sectors; longer ranges take several. */
export const BAD_BLOCK_ENTRY_MAX_SECTORS = 512;
/** `MAX_BADBLOCKS`: the table is one page of 8-byte entries. */
export const MAX_BAD_BLOCK_ENTRIES = 512;

/** One parsed write of the `badblocks` file. */
export interface BadBlocksCommand {
  /** '+' sets the range bad, '-' clears it. */
  readonly action: '+' | '-';
  /** First bad sector. */
  readonly start: number;
  /** Last bad sector (inclusive). */
  readonly end: number;
}

/** What `check` found: the first bad entry the range touches (`badblocks_check`'s first_bad, bad_sectors). */
export interface BadBlockHit {
  readonly firstBad: number;
  readonly badSectors: number;
}

/**
 * kstrtoull(s, 0): an optional '+', then decimal, 0x hex or 0-led octal. Sectors above
 * 2^53 are refused (they do not fit a JavaScript number exactly).
 */
function parseSector(text: string): number {
  const s = text.startsWith('+') ? text.slice(1) : text;
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) n = parseInt(s, 8);
  else if (/^[1-9][0-9]*$/.test(s)) n = Number(s);
  else throw new RangeError(`${JSON.stringify(text)} is not a sector number`);
  if (!Number.isSafeInteger(n)) throw new RangeError(`sector ${text} is out of range`);
  return n;
}

/**
 * Parses one write of the `badblocks` file, as `nullb_device_badblocks_store`: surrounding
 * whitespace stripped, '+' or '-', START, '-', END, START <= END. Throws a RangeError that
 * says what is wrong (the caller names the attribute).
 */
export function parseBadBlocksCommand(text: string): BadBlocksCommand {
  const buf = text.trim();
  const action = buf[0];
  if (action !== '+' && action !== '-') {
    throw new RangeError(`want "+START-END" to set or "-START-END" to clear, got ${JSON.stringify(text)}`);
  }
  const dash = buf.indexOf('-', 1);
  if (dash < 0) throw new RangeError(`want "${action}START-END", got ${JSON.stringify(text)}`);
  const start = parseSector(buf.slice(1, dash));
  const end = parseSector(buf.slice(dash + 1));
  if (start > end) throw new RangeError(`start ${start} is after end ${end}`);
  return { action, start, end };
}

/**
 * The bad sector ranges of one disk.
 *
 * Invariants:
 *   - `ranges` are sorted, disjoint, non-adjacent inclusive [start, end] sector ranges.
 *   - Shown and cleared in entries of at most `BAD_BLOCK_ENTRY_MAX_SECTORS`, cut from the
 *     start of each range, and never more than `MAX_BAD_BLOCK_ENTRIES` entries: a set
 *     that would need more is refused (the kernel's full table, EINVAL).
 */
export class BadBlocks {
  private ranges: [start: number, end: number][] = [];

  /** Parses `show()` output back (lines of "START LENGTH"); '' is none. */
  static fromShown(text: string): BadBlocks {
    const bb = new BadBlocks();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
      if (!m || Number(m[2]) <= 0) throw new RangeError(`bad-block entry ${JSON.stringify(line)} is not "START LENGTH"`);
      bb.insert(Number(m[1]), Number(m[1]) + Number(m[2]) - 1);
    }
    return bb;
  }

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** Applies one command; throws a RangeError when the table would overflow (nothing changes then). */
  apply(cmd: BadBlocksCommand): void {
    if (cmd.action === '-') {
      this.clear(cmd.start, cmd.end);
      return;
    }
    const before = this.ranges.map((r) => [...r] as [number, number]);
    this.insert(cmd.start, cmd.end);
    if (this.entries().length > MAX_BAD_BLOCK_ENTRIES) {
      this.ranges = before;
      throw new RangeError(`the table holds at most ${MAX_BAD_BLOCK_ENTRIES} entries of up to ${BAD_BLOCK_ENTRY_MAX_SECTORS} sectors`);
    }
  }

  /** `badblocks_clear`: no sector of [start, end] is bad afterwards. */
  clear(start: number, end: number): void {
    const out: [number, number][] = [];
    for (const [s, e] of this.ranges) {
      if (e < start || s > end) {
        out.push([s, e]);
        continue;
      }
      if (s < start) out.push([s, start - 1]);
      if (e > end) out.push([end + 1, e]);
    }
    this.ranges = out;
  }

  /**
   * `badblocks_check` over `sectors` sectors from `sector`: the first entry that any of
   * them falls in (its start may lie before `sector`), or undefined when none is bad.
   */
  check(sector: number, sectors: number): BadBlockHit | undefined {
    if (sectors <= 0) return undefined;
    const last = sector + sectors - 1;
    for (const [s, e] of this.ranges) {
      if (e < sector) continue;
      if (s > last) return undefined;
      const k = Math.floor((Math.max(sector, s) - s) / BAD_BLOCK_ENTRY_MAX_SECTORS);
      const firstBad = s + k * BAD_BLOCK_ENTRY_MAX_SECTORS;
      return { firstBad, badSectors: Math.min(e, firstBad + BAD_BLOCK_ENTRY_MAX_SECTORS - 1) - firstBad + 1 };
    }
    return undefined;
  }

  /** The entries as `badblocks_show` lists them: [start, length], at most 512 sectors each. */
  entries(): [start: number, length: number][] {
    const out: [number, number][] = [];
    for (const [s, e] of this.ranges) {
      for (let a = s; a <= e; a += BAD_BLOCK_ENTRY_MAX_SECTORS) out.push([a, Math.min(e - a + 1, BAD_BLOCK_ENTRY_MAX_SECTORS)]);
    }
    return out;
  }

  /** `badblocks_show`: "START LENGTH\n" per entry, '' when none. */
  show(): string {
    return this.entries()
      .map(([s, n]) => `${s} ${n}\n`)
      .join('');
  }

  /** Adds [start, end], merging with overlapping and adjacent ranges. */
  private insert(start: number, end: number): void {
    const out: [number, number][] = [];
    let merged: [number, number] = [start, end];
    let placed = false;
    for (const r of this.ranges) {
      if (r[1] + 1 < merged[0]) out.push(r);
      else if (r[0] > merged[1] + 1) {
        if (!placed) out.push(merged);
        placed = true;
        out.push(r);
      } else merged = [Math.min(r[0], merged[0]), Math.max(r[1], merged[1])];
    }
    if (!placed) out.push(merged);
    this.ranges = out;
  }
}

/**
 * The `badblocks` list after one write of the file: `shown` is the current list as
 * `show()` gives it, `command` the write. Throws a RangeError saying what is wrong.
 */
export function applyBadBlocksCommand(shown: string, command: string): string {
  const bb = BadBlocks.fromShown(shown);
  bb.apply(parseBadBlocksCommand(command));
  return bb.show();
}
