// The rnull driver: null_blk's attributes and the Operations implementation.
export * from './disk-attributes';
export * from './attribute-table';
export * from './rnull-driver';
export * from './bad-blocks';
export * from './bad-block-copy';
export * from './fault-inject';
export * from './rnull-faults';
export * from './bandwidth-budget';
export * from './bandwidth-throttle';
export * from './zoned/zone-geometry';
export * from './zoned/zone-model';
