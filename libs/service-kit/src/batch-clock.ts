// Names and clocks shared by the services that move batches: the queue names used in
// metrics and BullMQ, and the sub-millisecond clock batch messages carry. The messages
// themselves are defined once, in libs/redis-mq's batch codec (DESIGN §5).

/**
 * Queue names: the hctx batch queues (in metrics and logs) and the BullMQ queues of the
 * delayed requeue path. Disk names are [A-Za-z0-9._-], so `.` separates safely.
 */
export const QueueNames = {
  hctx: (disk: string, hctx: number) => `rq.${disk}.${hctx}`,
  /** The disk's name is the hash tag, so BullMQ's keys of the queue share the disk's slot (I7). */
  requeue: (disk: string) => `requeue.{${disk}}`,
} as const;

/** Current time in ms since the epoch with sub-millisecond precision. */
export function nowMsPrecise(): number {
  return performance.timeOrigin + performance.now();
}
