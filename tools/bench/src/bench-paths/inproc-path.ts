// Path (d): the rnull driver on the in-process engine of #blk-mq, with an in-memory page
// backing — the ceiling of the model without gRPC, Redis or a second process.
//
// Contract: the same closed loop as the gRPC load generator (`qd` IOs in flight, each
// refilled as it completes; sequential or uniform random block offsets; randrw is 50 %
// reads), latency from submit() to its completion, elapsed time to the last completion.
import { BlkStatus, GenDiskBuilder, PAGE_SIZE, ReqOp, type Request, SECTOR_SIZE, TagSet } from '#blk-mq';
import { applyAttributes, capacitySectors, DEFAULT_ATTRIBUTES, type Backing, RnullDriver, type RnullPdu } from '#rnull';
import { LatencyHistogram } from '../../../rnullctl/src/latency-histogram';
import type { BenchConfig } from '../bench-matrix';
import type { PathMeasurement } from '../bench-result';
import { cpuPerIo, selfCpuSeconds } from '../cpu-per-io';

/** The null_blk xarray of pages, in process: 4 KiB pages that exist once written. */
export class MemoryPageBacking implements Backing {
  readonly pages = new Map<number, Uint8Array>();

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
          if (rq.op === ReqOp.WRITE) {
            let page = this.pages.get(index);
            if (!page) this.pages.set(index, (page = new Uint8Array(PAGE_SIZE)));
            page.set(data.subarray(done, done + n), offset);
          } else if (rq.op === ReqOp.READ) {
            const page = this.pages.get(index);
            if (page) data.set(page.subarray(offset, offset + n), done);
            else data.fill(0, done, done + n);
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
  const start = process.hrtime.bigint();
  const stopAt = start + BigInt(Math.round(o.seconds * 1e9));
  let last = start;
  let cursor = 0;
  let ios = 0;
  let bytes = 0;
  let errors = 0;
  const ticker = o.onProgress ? setInterval(() => o.onProgress!(ios, Number(process.hrtime.bigint() - start) / 1e9), 1000) : undefined;

  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < stopAt) {
      const random = c.rw.startsWith('rand');
      const block = random ? Math.floor(Math.random() * blocks) : cursor++ % blocks;
      const isRead = c.rw === 'randread' || c.rw === 'read' || (c.rw === 'randrw' && Math.random() < 0.5);
      const sector = (block * c.bs) / SECTOR_SIZE;
      const t0 = process.hrtime.bigint();
      const done = await disk.submit(isRead ? { op: ReqOp.READ, sector, bytes: c.bs } : { op: ReqOp.WRITE, sector, data: payload });
      last = process.hrtime.bigint();
      hist.record(Number(last - t0));
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
  const seconds = Number(last - start) / 1e9;
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
