#!/usr/bin/env node
// Generates libs/proto/src from proto/**/*.proto with ts-proto and the protoc binary that
// ships inside the npm `protoc` package (no download at install time).
//   nest/  — ts-proto nestJs=true: message types and the XServiceController / XServiceClient
//            interfaces with their @GrpcMethod decorators, for the NestJS services.
//            64-bit fields are decimal strings (proto-loader longs: String), exact.
//   grpc/  — ts-proto outputServices=grpc-js, 64-bit fields as bigint: codecs and plain @grpc/grpc-js clients and
//            service definitions, for rnullctl, tests and the hot IO path.
// `--check` generates into a temporary folder and fails when libs/proto/src differs.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const protoDir = path.join(root, 'proto');
const outRoot = path.join(root, 'libs/proto/src');
const check = process.argv.includes('--check');

function protoFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return protoFiles(p);
    return e.name.endsWith('.proto') ? [path.relative(protoDir, p)] : [];
  });
}

const variants = {
  nest: 'nestJs=true,addGrpcMetadata=false,forceLong=string,esModuleInterop=true,useOptionals=messages',
  grpc: 'outputServices=grpc-js,forceLong=bigint,esModuleInterop=true,useOptionals=messages,env=node',
};

// The grpc variant's serializers encode through one reused writer (libs/proto/src/message-encoding.ts:
// why, and what it promises); ts-proto has no option for it, so its output is rewritten here.
const SERIALIZE = /Buffer\.from\((\w+)\.encode\(value\)\.finish\(\)\)/g;
const WIRE_IMPORT = 'import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";\n';

function useSharedWriter(dir) {
  for (const f of listFiles(dir).filter((f) => f.endsWith('.ts'))) {
    const file = path.join(dir, f);
    const text = fs.readFileSync(file, 'utf8');
    if (!text.match(SERIALIZE)) continue;
    if (!text.includes(WIRE_IMPORT)) throw new Error(`${file}: ts-proto's import of the wire codec changed; update gen-proto.js`);
    const encoding = path
      .relative(path.dirname(file), path.join(dir, '..', 'message-encoding'))
      .split(path.sep)
      .join('/');
    const rewritten = text
      .replace(SERIALIZE, 'encodeMessage($1, value)')
      .replace(WIRE_IMPORT, `${WIRE_IMPORT}import { encodeMessage } from "${encoding}";\n`);
    fs.writeFileSync(file, rewritten);
  }
}

function generate(into) {
  const protoc = require.resolve('protoc/protoc.cjs');
  const plugin = path.join(root, 'node_modules/.bin/protoc-gen-ts_proto');
  for (const [name, opts] of Object.entries(variants)) {
    const out = path.join(into, name);
    fs.mkdirSync(out, { recursive: true });
    execFileSync(
      process.execPath,
      [
        protoc,
        `--plugin=protoc-gen-ts_proto=${plugin}`,
        `--ts_proto_out=${out}`,
        `--ts_proto_opt=${opts}`,
        `-I${protoDir}`,
        ...protoFiles(protoDir),
      ],
      { stdio: 'inherit' },
    );
    if (name === 'grpc') useSharedWriter(out);
  }
}

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

if (check) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-proto-'));
  try {
    generate(tmp);
    const want = listFiles(tmp).filter((f) => f.endsWith('.ts'));
    const have = listFiles(outRoot).filter((f) => f.endsWith('.ts') && /^(nest|grpc)\//.test(f));
    const stale = [...new Set([...want, ...have])].filter(
      (f) =>
        !want.includes(f) ||
        !have.includes(f) ||
        fs.readFileSync(path.join(tmp, f), 'utf8') !== fs.readFileSync(path.join(outRoot, f), 'utf8'),
    );
    if (stale.length) {
      console.error(`libs/proto/src is stale (${stale.join(', ')}): run npm run proto and commit the result`);
      process.exit(1);
    }
    console.log('libs/proto/src matches proto/');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
} else {
  for (const v of Object.keys(variants)) fs.rmSync(path.join(outRoot, v), { recursive: true, force: true });
  generate(outRoot);
  console.log(`generated ${listFiles(outRoot).length} files under libs/proto/src`);
}
