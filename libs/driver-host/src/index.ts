// The driver host: the driver side of blk-mq in a worker process. Hosted drivers per disk,
// the journal table, fenced backing, and the hctx and completion workers.
export * from './journal-table';
export * from './fenced-backing';
export * from './batch-worker';
export * from './driver-host';
export * from './job-options';
export * from './disk-drivers';
export * from './hctx-workers';
export * from './completion-workers';
