// Mirrors `struct bio` and `struct request` on the dispatch side: a client submission
// (PendingBio), split to fit `max_sectors` and merged with its neighbours into requests
// (IoRequest) that each own one tag.
import { BlkStatus, type RequestToken, ReqOp } from '#blk-mq';

/** One client submission until every request carrying a part of it has ended. */
export class PendingBio {
  private remaining = 0;
  private status = BlkStatus.OK;
  private message = '';
  private buf?: Buffer;
  readonly startNs = process.hrtime.bigint();

  constructor(
    readonly op: ReqOp,
    readonly bytes: number,
    private readonly done: (status: BlkStatus, data: Buffer | undefined, message: string, latencyNs: bigint) => void,
  ) {}

  /** READ: the data, filled part by part (allocated on first use); undefined otherwise. */
  get data(): Buffer | undefined {
    if (this.op !== ReqOp.READ) return undefined;
    this.buf ??= Buffer.allocUnsafe(this.bytes);
    return this.buf;
  }

  /**
   * READ whose one part covers the whole bio: `whole` (exactly `bytes` long) becomes the
   * data without a copy. False, and nothing taken, when the data was already touched.
   */
  adopt(whole: Buffer): boolean {
    if (this.op !== ReqOp.READ || this.buf || whole.length !== this.bytes) return false;
    this.buf = whole;
    return true;
  }

  /** Called once per request part before any part can end. */
  addPart(): void {
    this.remaining += 1;
  }

  /** One part ended; the first failure decides the bio's status. */
  endPart(status: BlkStatus, message = ''): void {
    if (status !== BlkStatus.OK && this.status === BlkStatus.OK) {
      this.status = status;
      this.message = message;
    }
    this.remaining -= 1;
    if (this.remaining === 0) {
      this.done(this.status, this.status === BlkStatus.OK ? this.data : undefined, this.message, process.hrtime.bigint() - this.startNs);
    }
  }
}

/** The slice of a bio that a request carries. */
export interface BioPart {
  readonly bio: PendingBio;
  /** Byte offset of this part inside the bio. */
  readonly bioOffset: number;
  readonly bytes: number;
  /** WRITE: this part's payload. */
  readonly data?: Buffer;
}

/**
 * Invariants:
 *   - `parts` are contiguous on disk, in order, and their bytes add up to `bytes`.
 *   - `token` is set exactly while the request holds a tag.
 */
export class IoRequest {
  token?: RequestToken;
  readonly parts: BioPart[] = [];
  bytes = 0;
  readonly queuedNs = process.hrtime.bigint();

  constructor(
    readonly op: ReqOp,
    readonly sector: number,
    readonly flags: number,
  ) {}

  add(part: BioPart): void {
    this.parts.push(part);
    this.bytes += part.bytes;
  }

  /** The first sector after this request. */
  get endSector(): number {
    return this.sector + this.bytes / 512;
  }

  /** `blk_rq_merge_ok` + back merge: same op and flags, READ/WRITE only, contiguous, fits. */
  canBackMerge(next: IoRequest, maxBytes: number): boolean {
    return (
      (this.op === ReqOp.READ || this.op === ReqOp.WRITE) &&
      next.op === this.op &&
      next.flags === this.flags &&
      next.sector === this.endSector &&
      this.bytes + next.bytes <= maxBytes
    );
  }

  /** The WRITE payload of the whole request. */
  payload(): Buffer {
    if (this.parts.length === 1) return this.parts[0].data!;
    return Buffer.concat(this.parts.map((p) => p.data!), this.bytes);
  }

  /** Hands the request's outcome to every bio it carries a part of. */
  end(status: BlkStatus, data: Buffer | undefined, message = ''): void {
    let offset = 0;
    for (const p of this.parts) {
      if (status === BlkStatus.OK && this.op === ReqOp.READ) {
        const whole = data && p.bioOffset === 0 && p.bytes === p.bio.bytes && p.bio.adopt(data.subarray(offset, offset + p.bytes));
        if (!whole) {
          const target = p.bio.data!;
          if (data) data.copy(target, p.bioOffset, offset, offset + p.bytes);
          else target.fill(0, p.bioOffset, p.bioOffset + p.bytes);
        }
      }
      offset += p.bytes;
      p.bio.endPart(status, message);
    }
  }
}

/**
 * `bio_split` to `max_sectors`: the requests one checked submission becomes, before
 * merging. DISCARD and WRITE_ZEROES are split like data ops (no payload to carry).
 */
export function splitToRequests(
  bio: PendingBio,
  op: ReqOp,
  sector: number,
  bytes: number,
  flags: number,
  data: Buffer | undefined,
  maxBytes: number,
): IoRequest[] {
  if (op === ReqOp.FLUSH) {
    const rq = new IoRequest(op, 0, flags);
    rq.add({ bio, bioOffset: 0, bytes: 0 });
    bio.addPart();
    return [rq];
  }
  const out: IoRequest[] = [];
  for (let off = 0; off < bytes; off += maxBytes) {
    const len = Math.min(maxBytes, bytes - off);
    const rq = new IoRequest(op, sector + off / 512, flags);
    rq.add({ bio, bioOffset: off, bytes: len, data: data?.subarray(off, off + len) });
    bio.addPart();
    out.push(rq);
  }
  return out;
}
