// dispatch: the block layer of the cluster (per disk an Engine driving a RemoteDriver or
// a LocalDriver, the completion router, submission checks, the gRPC submit stream) and its NBD front end.
export * from './submission-check';
export * from './owner-lease';
export * from './remote-driver';
export * from './local-driver';
export * from './tag-budget';
export * from './shared-tag-share';
export * from './owned-backing';
export * from './disk-queue';
export * from './completion-router';
export * from './block-layer';
export * from './submit-stream';
export * from './zone-census';
export * from './client-budget';
export * from './nbd/nbd-env';
export * from './nbd/nbd-tls-env';
export * from './nbd/nbd-identities';
export * from './nbd/nbd-front-end';
export * from './nbd/block-layer-backend';
