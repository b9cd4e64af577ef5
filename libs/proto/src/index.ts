// The public protocol blk.v1: hand-written helpers. Generated code is imported by path:
// `#proto/grpc/blk/v1/block_device` (codecs, grpc-js clients) and
// `#proto/nest/blk/v1/gen_disk` (NestJS controller interfaces).
export * from './proto-files';
export * from './reflection';
export * from './grpc-flow-control';
