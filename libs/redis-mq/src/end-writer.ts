// Mirrors `blk_mq_end_request_batch` / `blk_mq_complete_request` across processes: the
// TypeScript face of `endBatch-6.lua`, which finishes a leased batch in one step: the end
// message (with the read data of its ends appended from `rqdata`) goes to the owner's
// completion list `cq:<epoch>`, a softirq / timer batch is forwarded to the disk's
// completion queue, and the lease is acked (DESIGN §3, §6).
//
// Contracts:
//   - `leaseLost`: the lease member was gone (the batch was reclaimed; its new holder
//     finishes it); nothing changed.
//   - `ownerGone`: the owner epoch is gone; nothing was delivered or forwarded, the read
//     data the messages name was deleted, and the lease was acked (the batch is done).
//   - `delivered`: the end message (if any) is on the owner's completion list and the
//     forward message (if any) on its queue, and the lease was acked, atomically.
//   - The owner never receives hasData = 1 without the data: a read whose data is
//     missing is delivered as IOERR (status 10), hasData false.
//   - Messages are checked by the script (kind, length, epoch); bad ones are refused
//     with an error naming the problem, changing nothing (I5).
import type { Redis } from 'ioredis';
import { KeySchema, checkDiskName } from './key-schema';
import { scriptsFor, type ScriptRunner } from './lua-scripts';
import { ScriptCode, checkReply } from './script-errors';

export interface EndBatchInput {
  readonly disk: string;
  /** The `leased` key of the queue the batch came from. */
  readonly leased: string;
  /** The batch's lease member (`Lease.member`). */
  readonly member: Buffer;
  /** The batch's owner epoch. */
  readonly epoch: number;
  /** An End message (`encodeEnds(MessageKind.End, …)`), without data; omit for none. */
  readonly end?: Buffer;
  /** A Softirq or Timer message to forward to the disk's queue of that kind; omit for none. */
  readonly forward?: { readonly queue: 'softirq' | 'timer'; readonly message: Buffer };
}

export type EndBatchResult = 'delivered' | 'ownerGone' | 'leaseLost';

export class EndWriter {
  private readonly scripts: ScriptRunner;

  constructor(
    readonly redis: Redis,
    readonly keys: KeySchema = new KeySchema(),
  ) {
    this.scripts = scriptsFor(redis);
  }

  /** Delivers, forwards and acks in one script run (see the file contracts). */
  async endBatch(input: EndBatchInput): Promise<EndBatchResult> {
    const { disk, epoch } = input;
    checkDiskName(disk);
    if (!Buffer.isBuffer(input.member)) throw new TypeError(`${disk}: endBatch: the lease member must be a Buffer`);
    const forward = this.keys.diskQueue(disk, input.forward?.queue ?? 'softirq');
    const keys = [
      input.leased,
      this.keys.owners(disk),
      this.keys.completionList(disk, epoch),
      this.keys.requestData(disk),
      forward.wait,
      forward.marker,
    ];
    const args = [input.member, epoch, input.end ?? '', input.forward?.message ?? ''];
    const reply = (await this.scripts.run('endBatch', keys, args)) as number;
    if (reply === ScriptCode.LeaseLost) return 'leaseLost';
    checkReply('endBatch', reply, `${disk} epoch ${epoch}`);
    return reply === 1 ? 'delivered' : 'ownerGone';
  }
}
