// The `sizes` section: whether the cost of one IO is flat per byte in its size and in the
// length of the wait list it makes. Single gRPC submissions of 1, 4 and 16 MiB WRITE,
// 256 MiB of WRITE as 16 x 16 MiB submissions issued at once, and WRITE_ZEROES over 64 and
// 512 MiB, each on a fresh disk with max_sectors=8 (every request at most 4 KiB, so one
// 16 MiB bio becomes 4096 requests) and on one with the default max_sectors. While the
// 16 MiB write runs, 4 KiB reads from another gRPC channel measure what it does to a
// neighbour.
//
// Contract:
//   - A row is a measurement or a failure with its reason, never a made-up figure; a row
//     whose submissions pass `timeoutSeconds` is 'timeout' (the gRPC deadline), and the run goes on.
//   - WRITE_ZEROES is first tried as one submission; when dispatch refuses it for its length
//     (the 16 MiB cap per submission), it is issued as 16 MiB pieces at once and the row says so.
//   - CPU is sampled around each row like the matrix (cpu-per-io.ts); per byte, not per IO.
//   - Times are reported, never judged: this is a benchmark.
import * as grpc from '@grpc/grpc-js';
import { type Completion, Op, Status, statusToJSON, type Submission } from '#proto/grpc/blk/v1/block_device';
import { GrpcCallError, RnullClients } from '../../rnullctl/src/grpc-clients';
import type { BenchCluster } from './bench-cluster';
import type { BenchProgress } from './bench-progress';
import { measureCpu, type CpuPerIo } from './cpu-per-io';

const MiB = 1 << 20;
/** dispatch's cap per submission (MAX_SUBMISSION_BYTES). */
export const SUBMISSION_CAP = 16 * MiB;
/** Disk size of the section: room for 512 MiB of zeroes and the read probe's region. */
export const SIZES_DISK_MIB = 1024;
/** Where the read probe reads: far from every write of the section (which start at 0). */
const PROBE_SECTOR = (768 * MiB) / 512;

export interface SizeCase {
  readonly op: 'write' | 'write-zeroes';
  /** Bytes of the row in total. */
  readonly bytes: number;
  /** Submissions issued at once (each bytes / submissions long). */
  readonly submissions: number;
  /** Run 4 KiB reads from another channel while this row runs. */
  readonly probe?: boolean;
}

export const SIZE_CASES: readonly SizeCase[] = [
  { op: 'write', bytes: 1 * MiB, submissions: 1 },
  { op: 'write', bytes: 4 * MiB, submissions: 1 },
  { op: 'write', bytes: 16 * MiB, submissions: 1, probe: true },
  { op: 'write', bytes: 256 * MiB, submissions: 16 },
  { op: 'write-zeroes', bytes: 64 * MiB, submissions: 1 },
  { op: 'write-zeroes', bytes: 512 * MiB, submissions: 1 },
];

/**
 * max_sectors of the two disks; undefined = the default attribute. The default goes first:
 * if a max_sectors=8 row brings a service down, the default rows are already measured.
 */
export const SIZE_MAX_SECTORS: readonly (number | undefined)[] = [undefined, 8];

export interface ReadProbe {
  /** Reads completed while the big write was in flight (the first one always counts). */
  readonly reads: number;
  readonly firstNs: number;
  readonly p50Ns: number;
  readonly maxNs: number;
  /** Whether the first read ended before the write did. */
  readonly firstEndedBeforeWrite: boolean;
}

export interface SizeRow {
  readonly maxSectors?: number;
  readonly op: SizeCase['op'];
  readonly bytes: number;
  /** Submissions actually issued (WRITE_ZEROES may be split, see the contract). */
  readonly submissions: number;
  readonly status: 'ok' | 'failed' | 'timeout';
  readonly reason?: string;
  readonly seconds?: number;
  readonly mibPerSec?: number;
  /** Wall time per byte. */
  readonly nsPerByte?: number;
  /** Server-side CPU (services + Redis) per byte. */
  readonly cpuNsPerByte?: number;
  /** CPU seconds by process over the row (`ios` = submissions). */
  readonly cpu?: CpuPerIo;
  readonly probe?: ReadProbe;
}

export interface SizeScaling {
  readonly irqmode: number;
  readonly timeoutSeconds: number;
  readonly rows: readonly SizeRow[];
}

export function sizeSteps(): number {
  return SIZE_CASES.length * SIZE_MAX_SECTORS.length;
}

/** `16 MiB write, 1 sub, max_sectors=8`. */
export function sizeLabel(r: Pick<SizeRow, 'op' | 'bytes' | 'submissions' | 'maxSectors'>): string {
  return `${r.bytes / MiB} MiB ${r.op} x${r.submissions} max_sectors=${r.maxSectors ?? 'default'}`;
}

/** Wall ns per byte and MiB/s of `bytes` in `seconds`; CPU ns per byte from CPU seconds. */
export function perByte(
  bytes: number,
  seconds: number,
  cpuSeconds?: number,
): { nsPerByte: number; mibPerSec: number; cpuNsPerByte?: number } {
  return {
    nsPerByte: (seconds * 1e9) / bytes,
    mibPerSec: seconds > 0 ? bytes / MiB / seconds : Infinity,
    cpuNsPerByte: cpuSeconds === undefined ? undefined : (cpuSeconds * 1e9) / bytes,
  };
}

/** The pieces of `bytes` from sector 0 in `n` equal submissions. */
export function pieces(op: SizeCase['op'], disk: string, bytes: number, n: number, payload?: Buffer): Submission[] {
  const each = bytes / n;
  return Array.from({ length: n }, (_, i) => ({
    tag: BigInt(i + 1),
    disk,
    op: op === 'write' ? Op.OP_WRITE : Op.OP_WRITE_ZEROES,
    sector: BigInt((i * each) / 512),
    length: each,
    data: op === 'write' ? payload!.subarray(0, each) : Buffer.alloc(0),
    flags: 0,
  }));
}

class CompletionError extends Error {}

async function submitAll(c: RnullClients, subs: readonly Submission[]): Promise<void> {
  const done: Completion[] = await Promise.all(subs.map((s) => c.submit(s)));
  const bad = done.find((d) => d.status !== Status.STATUS_OK);
  if (bad) throw new CompletionError(`${statusToJSON(bad.status)}: ${bad.message}`);
}

function isLengthRefusal(err: unknown): boolean {
  return (
    (err instanceof GrpcCallError && err.code === grpc.status.INVALID_ARGUMENT) ||
    (err instanceof CompletionError && /length|limit/i.test(err.message))
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

/** 4 KiB reads on `c` one after another until `until` settles; the first is always made. */
async function readProbe(c: RnullClients, disk: string, until: Promise<unknown>): Promise<ReadProbe> {
  let writeDone = false;
  void until.then(
    () => (writeDone = true),
    () => (writeDone = true),
  );
  await new Promise((r) => setTimeout(r, 2)); // let the write reach dispatch first
  const lat: number[] = [];
  let firstEndedBeforeWrite = false;
  do {
    const t0 = process.hrtime.bigint();
    const done = await c.submit({
      tag: 1n,
      disk,
      op: Op.OP_READ,
      sector: BigInt(PROBE_SECTOR),
      length: 4096,
      data: Buffer.alloc(0),
      flags: 0,
    });
    if (done.status !== Status.STATUS_OK) throw new Error(`probe read: ${statusToJSON(done.status)}: ${done.message}`);
    lat.push(Number(process.hrtime.bigint() - t0));
    if (lat.length === 1) firstEndedBeforeWrite = !writeDone;
  } while (!writeDone && lat.length < 10_000);
  return { reads: lat.length, firstNs: lat[0], p50Ns: median(lat), maxNs: Math.max(...lat), firstEndedBeforeWrite };
}

export interface SizeOptions {
  readonly irqmode: number;
  readonly timeoutSeconds: number;
  readonly signal?: AbortSignal;
}

export async function runSizeScaling(bc: BenchCluster, o: SizeOptions, progress: BenchProgress): Promise<SizeScaling> {
  const rows: SizeRow[] = [];
  const clients = new RnullClients(bc.client.address, o.timeoutSeconds * 1000);
  const probeClients = new RnullClients(bc.client.address, o.timeoutSeconds * 1000);
  const payload = Buffer.alloc(SUBMISSION_CAP, 0x5a);
  try {
    for (const maxSectors of SIZE_MAX_SECTORS) {
      for (const k of SIZE_CASES) {
        if (o.signal?.aborted) return { irqmode: o.irqmode, timeoutSeconds: o.timeoutSeconds, rows };
        const base = { maxSectors, op: k.op, bytes: k.bytes };
        progress.begin(`sizes ${sizeLabel({ ...base, submissions: k.submissions })}`);
        let disk;
        try {
          disk = await bc.createDisk(
            { rw: 'write', bs: 4096, qd: 1, irqmode: o.irqmode, memoryBacked: true },
            { size: BigInt(SIZES_DISK_MIB), ...(maxSectors === undefined ? {} : { maxSectors }) },
          );
        } catch (err) {
          // A row before may have brought dispatch down: the rest are failures, not a crash of the run.
          rows.push({ ...base, submissions: k.submissions, status: 'failed', reason: `cannot create the disk: ${(err as Error).message}` });
          progress.note(`sizes ${sizeLabel({ ...base, submissions: k.submissions })}: cannot create the disk: ${(err as Error).message}`);
          continue;
        }
        try {
          rows.push(await runCase(disk.name, k, base));
        } finally {
          await bc.deleteDisk(disk.name).catch(() => undefined);
        }
      }
    }
  } finally {
    clients.close();
    probeClients.close();
  }
  return { irqmode: o.irqmode, timeoutSeconds: o.timeoutSeconds, rows };

  async function runCase(disk: string, k: SizeCase, base: Pick<SizeRow, 'maxSectors' | 'op' | 'bytes'>): Promise<SizeRow> {
    let n = k.submissions;
    let probe: ReadProbe | undefined;
    const attempt = async () => {
      const t0 = process.hrtime.bigint();
      const write = submitAll(clients, pieces(k.op, disk, k.bytes, n, payload));
      const probing = k.probe ? readProbe(probeClients, disk, write) : undefined;
      await write;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      probe = await probing;
      return seconds;
    };
    const run = () => measureCpu(bc.cpuSources(true), attempt, () => n);
    try {
      let r;
      try {
        r = await run();
      } catch (err) {
        // The 16 MiB cap per submission also bounds WRITE_ZEROES: split it and try again.
        if (k.op !== 'write-zeroes' || n !== 1 || k.bytes <= SUBMISSION_CAP || !isLengthRefusal(err)) throw err;
        progress.note(
          `sizes: ${k.bytes / MiB} MiB WRITE_ZEROES refused as one submission (${(err as Error).message}); issuing ${k.bytes / SUBMISSION_CAP} x 16 MiB at once`,
        );
        n = k.bytes / SUBMISSION_CAP;
        r = await run();
      }
      const serverCpu = Object.entries(r.cpu.seconds)
        .filter(([role]) => role !== 'client')
        .reduce((a, [, s]) => a + s, 0);
      return { ...base, submissions: n, status: 'ok', seconds: r.result, ...perByte(k.bytes, r.result, serverCpu), cpu: r.cpu, probe };
    } catch (err) {
      const timeout = err instanceof GrpcCallError && err.code === grpc.status.DEADLINE_EXCEEDED;
      const reason = timeout ? `no completion within ${o.timeoutSeconds} s (--sizes-timeout)` : (err as Error).message;
      progress.note(`sizes ${sizeLabel({ ...base, submissions: n })}: ${reason}`);
      if (err instanceof GrpcCallError && err.code === grpc.status.UNAVAILABLE) progress.note(`last service output:\n${bc.recentOutput()}`);
      return { ...base, submissions: n, status: timeout ? 'timeout' : 'failed', reason };
    }
  }
}
