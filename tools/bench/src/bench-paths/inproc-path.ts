// Path (d): the rnull driver on the in-process engine of #blk-mq, with an in-memory page
// backing — the ceiling of the model without gRPC, Redis or a second process.
//
// The bench runs each row in a process of its own (`runInprocInChild`, `inproc-child.ts`),
// as nbdkit is for path c: inside the bench process the same row measured 0.5–0.8 × its
// own-process IOPS after rows of paths a and b had run there (their clients, connections,
// timers and JIT state; docs/bench/v2-final/).
//
// Contract: the same closed loop as the gRPC load generator (`qd` IOs in flight, each
// refilled as it completes; sequential or uniform random block offsets; randrw is 50 %
// reads), latency from submit() to its completion, elapsed time to the last completion.
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { BlkStatus, GenDiskBuilder, PAGE_SIZE, ReqOp, type Request, SECTOR_SIZE, TagSet } from '#blk-mq';
import { applyAttributes, capacitySectors, DEFAULT_ATTRIBUTES, type Backing, RnullDriver, type RnullPdu } from '#rnull';
import { LatencyHistogram } from '../../../rnullctl/src/latency-histogram';
import type { BenchConfig } from '../bench-matrix';
import type { PathMeasurement } from '../bench-result';
import { cpuPerIo, selfCpuSeconds } from '../cpu-per-io';
import type { InprocReply, InprocRequest } from './inproc-child';

/** Pages carved from one allocation: a new page costs a slot, not an ArrayBuffer of its own. */
const PAGES_PER_SLAB = 256;
/** Page numbers per leaf of the index (a leaf is allocated when its first page is written). */
const PAGES_PER_LEAF = 4096;

/**
 * The null_blk xarray of pages, in process: 4 KiB pages that exist once written. A two-level
 * index of typed arrays maps a page number to its slot (0 = never written) and slabs hold
 * the pages, so the store is a few large objects whatever its size, not a `Map` of one
 * view per page (docs/bench/v2-final/).
 */
export class MemoryPageBacking implements Backing {
  private readonly leaves = new Map<number, Uint32Array>();
  private readonly slabs: Uint8Array[] = [];
  private stored = 0;

  /** Pages written at least once. */
  get storedPages(): number {
    return this.stored;
  }

  /** The slot of page `index` (1-based), 0 when it was never written. */
  private slotOf(index: number): number {
    return this.leaves.get(Math.floor(index / PAGES_PER_LEAF))?.[index % PAGES_PER_LEAF] ?? 0;
  }

  /** The slot of page `index`, given one (a zeroed page) if it was never written. */
  private slotFor(index: number): number {
    const leafNo = Math.floor(index / PAGES_PER_LEAF);
    let leaf = this.leaves.get(leafNo);
    if (!leaf) this.leaves.set(leafNo, (leaf = new Uint32Array(PAGES_PER_LEAF)));
    const at = index % PAGES_PER_LEAF;
    if (leaf[at] === 0) {
      // nbdkit's sparse array likewise allocates its pages 32 KiB at a time.
      if (this.stored % PAGES_PER_SLAB === 0) this.slabs.push(new Uint8Array(PAGES_PER_SLAB * PAGE_SIZE));
      leaf[at] = ++this.stored;
    }
    return leaf[at];
  }

  async transfer(rqs: readonly Request<RnullPdu>[]): Promise<BlkStatus[]> {
    for (const rq of rqs) {
      for (const seg of rq.segments()) {
        let pos = seg.sector * SECTOR_SIZE;
        let done = 0;
        const data = seg.data;
        while (done < data.length) {
          const index = Math.floor(pos / PAGE_SIZE);
          const offset = pos % PAGE_SIZE;
          const n = Math.min(PAGE_SIZE - offset, data.length - done);
          const slot = rq.op === ReqOp.WRITE ? this.slotFor(index) : this.slotOf(index);
          // Slot s lives in slab (s - 1) / PAGES_PER_SLAB at page (s - 1) % PAGES_PER_SLAB.
          const slab = this.slabs[Math.floor((slot - 1) / PAGES_PER_SLAB)];
          const at = ((slot - 1) % PAGES_PER_SLAB) * PAGE_SIZE + offset;
          if (rq.op === ReqOp.WRITE) slab.set(data.subarray(done, done + n), at);
          else if (rq.op === ReqOp.READ) {
            if (slot === 0) data.fill(0, done, done + n);
            else data.set(slab.subarray(at, at + n), done);
          }
          pos += n;
          done += n;
        }
      }
    }
    return rqs.map(() => BlkStatus.OK);
  }
}

export interface InprocOptions {
  readonly sizeMiB: number;
  readonly seconds: number;
  readonly completionNsec: number;
  readonly onProgress?: (ios: number, elapsedSeconds: number) => void;
}

/** Runs `c` on a fresh in-process rnull disk for `seconds`. */
export async function runInproc(c: BenchConfig, o: InprocOptions): Promise<PathMeasurement> {
  const attributes = applyAttributes(
    DEFAULT_ATTRIBUTES,
    {
      size: o.sizeMiB,
      irqmode: c.irqmode,
      memoryBacked: c.memoryBacked,
      completionNsec: o.completionNsec,
      hwQueueDepth: Math.max(64, c.qd),
    },
    false,
  );
  const tagSet = new TagSet({ nrHwQueues: 1, queueDepth: attributes.hwQueueDepth, recycle: attributes.recycle });
  const disk = new GenDiskBuilder()
    .name('bench0')
    .capacitySectors(capacitySectors(attributes))
    .logicalBlockSize(attributes.blocksize)
    .build(tagSet, new RnullDriver(attributes, new MemoryPageBacking()));

  const blocks = Math.floor((capacitySectors(attributes) * SECTOR_SIZE) / c.bs);
  const payload = new Uint8Array(c.bs).fill(0x5a);
  const hist = new LatencyHistogram();
  const cpu0 = selfCpuSeconds();
  // performance.now() (ms, a double) rather than hrtime.bigint(): the load loop shares this
  // thread with the engine, so it allocates nothing per IO of its own.
  const start = performance.now();
  const stopAt = start + o.seconds * 1000;
  let last = start;
  let cursor = 0;
  let ios = 0;
  let bytes = 0;
  let errors = 0;
  const ticker = o.onProgress ? setInterval(() => o.onProgress!(ios, (performance.now() - start) / 1000), 1000) : undefined;
  const random = c.rw.startsWith('rand');
  const readsOnly = c.rw === 'randread' || c.rw === 'read';

  const worker = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const block = random ? Math.floor(Math.random() * blocks) : cursor++ % blocks;
      const isRead = readsOnly || (c.rw === 'randrw' && Math.random() < 0.5);
      const sector = (block * c.bs) / SECTOR_SIZE;
      const t0 = performance.now();
      const done = await disk.submit(isRead ? { op: ReqOp.READ, sector, bytes: c.bs } : { op: ReqOp.WRITE, sector, data: payload });
      last = performance.now();
      hist.record(Math.round((last - t0) * 1e6));
      ios++;
      if (done.status === BlkStatus.OK) bytes += c.bs;
      else errors++;
    }
  };
  try {
    await Promise.all(Array.from({ length: c.qd }, worker));
  } finally {
    if (ticker) clearInterval(ticker);
    await disk.del();
  }
  const seconds = (last - start) / 1000;
  // The whole path runs in this process: its CPU is the path's (`inproc`).
  const cpu = cpuPerIo(new Map([['inproc', cpu0]]), new Map([['inproc', selfCpuSeconds()]]), ios);
  return {
    cpu,
    ios,
    seconds,
    iops: seconds > 0 ? ios / seconds : 0,
    mibPerSec: seconds > 0 ? bytes / 1048576 / seconds : 0,
    p50Ns: hist.percentile(50),
    p99Ns: hist.percentile(99),
    errors,
  };
}

/**
 * `runInproc` in a new Node process (`inproc-child.js` beside this file), so the row shares
 * its process, heap and event loop with nothing else. Progress is relayed; the child's
 * error, or its exit without an answer, rejects. `signal` kills the child.
 */
export function runInprocInChild(c: BenchConfig, o: InprocOptions & { readonly signal?: AbortSignal }): Promise<PathMeasurement> {
  const { onProgress, signal, ...options } = o;
  return new Promise<PathMeasurement>((resolve, reject) => {
    const child = fork(path.join(__dirname, 'inproc-child.js'), [], { execArgv: [], serialization: 'advanced', stdio: 'inherit' });
    let answered = false;
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (reply: InprocReply) => {
      if (reply.kind === 'progress') onProgress?.(reply.ios, reply.seconds);
      else if (reply.kind === 'done') {
        answered = true;
        resolve(reply.measurement);
      } else {
        answered = true;
        reject(new Error(`path d: ${reply.message}`));
      }
    });
    child.on('error', (err) => {
      answered = true;
      reject(err);
    });
    child.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (!answered) reject(new Error(`path d: its process exited without a result (${sig ?? `code ${code}`})`));
    });
    child.send({ config: c, options } satisfies InprocRequest);
  });
}
