// Service plumbing shared by every process of the cluster: environment, Redis
// connections, health and metrics, errors and their gRPC statuses, the disk registry.
export * from './service-env';
export * from './redis-connection';
export * from './cluster-errors';
export * from './grpc-status';
export * from './health';
export * from './bootstrap';
export * from './disk-record';
export * from './disk-registry';
export * from './disk-directory';
export * from './redis-disk-lifecycle';
export * from './rq-batch';
export * from './gendisk-forwarder';
export * from './dispatch/submission-check';
export * from './dispatch/io-request';
export * from './dispatch/disk-queue';
export * from './dispatch/block-layer';
export * from './dispatch/submit-stream';
export * from './driver/journal-table';
export * from './driver/redis-backing';
export * from './driver/driver-host';
export * from './driver/precise-timer';
export * from './driver/job-options';
export * from './driver/disk-drivers';
export * from './driver/hctx-workers';
export * from './driver/completion-workers';
export * from './service-core.module';
