// The public protocol's .proto sources (proto/blk/v1), located at run time for
// @grpc/proto-loader (NestJS's gRPC transport and server reflection load them from disk).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/** The folder that holds `blk/v1/*.proto`, from the sources or from `dist/`. */
export function protoRoot(): string {
  const candidates = [
    path.resolve(__dirname, '../../../proto'),
    path.resolve(__dirname, '../../../../proto'),
    path.resolve(process.cwd(), 'proto'),
  ];
  const found = candidates.find((c) => fs.existsSync(path.join(c, 'blk/v1/block_device.proto')));
  if (!found) throw new Error(`proto/blk/v1 not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Every public .proto file, relative to `protoRoot()`. */
export const PROTO_FILES = ['blk/v1/block_device.proto', 'blk/v1/gen_disk.proto'] as const;

/** proto-loader options that match the nest/ generated types (forceLong=string): 64-bit
 * fields arrive as decimal strings, exact over the whole range. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: Number,
  defaults: true,
  oneofs: true,
};

/** The package definition of the whole public protocol. */
export function loadBlkPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...PROTO_FILES], { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
}
