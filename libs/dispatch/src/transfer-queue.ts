// Mirrors the hctx dispatch list of blk-mq when the device is busy: requests that find the
// device's queue full wait on the list and go out together when it drains. Here the device
// is the page store: a disk's page calls (`OwnedBacking.transfer`, one Redis script and
// its MSET each) are limited to `maxInFlight` at a time, and the batches that arrive
// meanwhile leave merged as one call when one ends. Every call costs Redis a fixed part
// (parsing the commands, the script's start, the fence, waking up for it) whatever its
// size, so fewer, larger calls cost less per IO (docs/bench/v2-lean/).
//
// Contracts:
//   - Batches run in the order they were submitted: a merged call holds them in that order,
//     and a call starts only after every earlier one has started (on one connection Redis
//     runs them in the same order, as before).
//   - Each batch gets its own statuses, one per request in its order, or the error of the
//     call it went in.
//   - Only batches with the same `cacheBytes` and `zoned` merge; a merged call holds at most
//     `maxBytes` of request data, except a single batch larger than that, which goes alone.
//   - With fewer than `maxInFlight` calls running, a batch starts at once (same tick).
import type { BlkStatus, Request } from '#blk-mq';
import type { RnullPdu } from '#rnull';

/** Page calls a disk may have in flight in one dispatch instance before batches wait and merge. */
export const TRANSFERS_IN_FLIGHT = 1;

/** Request data a merged call may hold (a larger batch still goes, alone). */
export const MERGED_TRANSFER_BYTES = 4 * 1024 * 1024;

/** The call a merged batch makes: one backing run of `rqs` in order. */
export type TransferRun = (rqs: readonly Request<RnullPdu>[], cacheBytes: number, zoned: boolean) => Promise<BlkStatus[]>;

interface WaitingBatch {
  readonly rqs: readonly Request<RnullPdu>[];
  readonly cacheBytes: number;
  readonly zoned: boolean;
  readonly bytes: number;
  readonly resolve: (statuses: BlkStatus[]) => void;
  readonly reject: (err: unknown) => void;
}

export class TransferQueue {
  private inFlight = 0;
  private readonly waiting: WaitingBatch[] = [];
  /** Calls started so far, and the batches they carried (what merging did; tests read them). */
  calls = 0;
  batches = 0;

  constructor(
    private readonly run: TransferRun,
    private readonly maxInFlight = TRANSFERS_IN_FLIGHT,
    private readonly maxBytes = MERGED_TRANSFER_BYTES,
  ) {
    if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`TransferQueue: bad maxInFlight ${maxInFlight}`);
  }

  /** Runs `rqs` as one batch, merged with the batches waiting beside it when the queue is busy. */
  submit(rqs: readonly Request<RnullPdu>[], cacheBytes: number, zoned: boolean): Promise<BlkStatus[]> {
    return new Promise((resolve, reject) => {
      const bytes = rqs.reduce((sum, rq) => sum + rq.bytes, 0);
      this.waiting.push({ rqs, cacheBytes, zoned, bytes, resolve, reject });
      this.drain();
    });
  }

  /** Batches waiting for a call. */
  get queued(): number {
    return this.waiting.length;
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) this.start(this.takeGroup());
  }

  /** The first waiting batch and every next one that may ride in the same call. */
  private takeGroup(): WaitingBatch[] {
    const first = this.waiting.shift()!;
    const group = [first];
    let bytes = first.bytes;
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      if (next.cacheBytes !== first.cacheBytes || next.zoned !== first.zoned || bytes + next.bytes > this.maxBytes) break;
      bytes += next.bytes;
      group.push(this.waiting.shift()!);
    }
    return group;
  }

  private start(group: readonly WaitingBatch[]): void {
    this.inFlight++;
    this.calls++;
    this.batches += group.length;
    const rqs = group.length === 1 ? group[0].rqs : group.flatMap((b) => b.rqs);
    let call: Promise<BlkStatus[]>;
    try {
      call = this.run(rqs, group[0].cacheBytes, group[0].zoned);
    } catch (err) {
      call = Promise.reject(err);
    }
    call
      .then(
        (statuses) => {
          let at = 0;
          for (const b of group) {
            b.resolve(statuses.slice(at, at + b.rqs.length));
            at += b.rqs.length;
          }
        },
        (err: unknown) => {
          for (const b of group) b.reject(err);
        },
      )
      .finally(() => {
        this.inFlight--;
        this.drain();
      });
  }
}
