// gRPC server reflection for the public protocol, so that generic tools (grpcurl,
// grpcui, Postman) can discover blk.v1.BlockDevice and blk.v1.GenDisk.
import type * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { loadBlkPackageDefinition } from './proto-files';

/** Registers grpc.reflection.v1 and v1alpha for every public service on `server`. */
export function addBlkReflection(server: Pick<grpc.Server, 'addService'>): void {
  new ReflectionService(loadBlkPackageDefinition()).addToServer(server);
}
