// Mirrors `rust/kernel/block/mq.rs`: the driver API of blk-mq, re-created in TypeScript.
//
// Recipe (recipe.spec.ts runs exactly this): implement `Operations`, make a `TagSet`,
// build a `GenDisk`, submit.
//
//   import { BlkStatus, GenDiskBuilder, ReqOp, TagSet, type Operations } from '#blk-mq';
//
//   // 1. A driver: here every request ends OK inline, like null_blk with irqmode=0.
//   const ops: Operations = {
//     queueRq(_hctx, rq) {
//       rq.start();
//       rq.end(BlkStatus.OK);
//       return BlkStatus.OK;
//     },
//     commitRqs() {},
//     complete(rq) {
//       rq.end(BlkStatus.OK);
//     },
//   };
//
//   // 2. A tag set: hardware queues and tags per queue.
//   const tagSet = new TagSet({ nrHwQueues: 1, queueDepth: 64 });
//
//   // 3. A disk: setters validate, build() acts.
//   const disk = new GenDiskBuilder()
//     .name('rnullb0')
//     .capacitySectors(2048)
//     .logicalBlockSize(4096)
//     .build(tagSet, ops);
//
//   // 4. IO: a submission resolves with its completion.
//   const { status } = await disk.submit({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(4096) });
//   await disk.del();
//
// A driver in another process (the cluster's remote driver): `queueRqs` starts every
// request, pushes the batch and resolves with OK for the ones the far side took and
// RESOURCE for the rest (requeued and retried). The far side's end records end the
// requests through the engine:
//
//   disk.queue.endRemote(token, status, readData, message);   // refused ends count staleEnds
//   disk.queue.failAll(BlkStatus.IOERR, 'owner lost its lease');
//
// The engine checks every submission once (`checkSubmission`: a refusal names its field
// and kind), splits it to the queue limits, back-merges contiguous READ / WRITE bios of a
// tick into the plug's last request (`EngineOptions.noMerges` turns that off; a request's
// `bytes` and `bios` then grow until it is dispatched), and serves tag waiters round robin
// between clients (`Submission.client`).
//
// The request table (`RequestTable`, `InProcRequestTable`) holds every request's state and
// references; `testing/request-table-contract.ts` is the suite every implementation passes
// (import it by path; it needs jest and is not exported here). `testing/mem-driver.ts` is a
// small memory-backed driver with null_blk's irqmodes, for tests.

export * from './blk-status';
export * from './request-table';
export * from './request-errors';
export * from './request-state';
export * from './inproc-request-table';
export { ConfigError, DISK_NAME_CHARSET, DISK_NAME_MAX_BYTES, checkDiskName } from './config-check';
export * from './req-op';
export * from './blk-zone';
export * from './bio';
export * from './queue-limits';
export * from './tag-set';
export * from './hctx';
export * from './hw-queue-stop';
export * from './request';
export * from './request-ref';
export { TimeoutAction, defaultMapQueues, defaultQueueRqs, defaultTimeout, type DriverErrorSink, type Operations } from './operations';
export * from './submission';
export * from './submission-check';
export * from './plug';
export * from './merge';
export * from './dispatch';
export * from './requeue-list';
export * from './tag-wait';
export * from './timeout-handler';
export * from './engine';
export * from './engine-options';
export * from './remote-end';
export * from './gen-disk';
export * from './gen-disk-builder';
