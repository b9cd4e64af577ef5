// Names and clocks shared by the services that move batches: the queue names used in
// metrics and BullMQ, and the sub-millisecond clock batch messages carry. The messages
// themselves are defined once, in libs/redis-mq's batch codec (DESIGN §5).

/**
 * Queue names of the hctx batch queues (in metrics and logs); the BullMQ queues of the
 * delayed requeue path are named by `KeySchema.requeueQueueName`. Disk names are
 * [A-Za-z0-9._-], so `.` separates safely.
 */
export const QueueNames = {
  hctx: (disk: string, hctx: number) => `rq.${disk}.${hctx}`,
} as const;

/** Current time in ms since the epoch with sub-millisecond precision. */
export function nowMsPrecise(): number {
  return performance.timeOrigin + performance.now();
}
