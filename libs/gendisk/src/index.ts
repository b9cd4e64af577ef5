// gendisk: the disk registry (records, attributes, power, their lifecycle in Redis), the
// directory every other service follows, the GenDisk API client, and ServiceCoreModule,
// the providers every service process has (they include that directory).
export * from './disk-record';
export * from './disk-registry';
export * from './disk-directory';
export * from './redis-disk-lifecycle';
export * from './queue-freeze';
export * from './gendisk-forwarder';
export * from './service-core.module';
export * from './driver-factory';
export * from './bad-block-reporter';
export * from './hctx-init-faults';
export * from './fault-reporter';
export * from './throttle-reporter';
export * from './driver-event-reporters';
export * from './disk-limits';
