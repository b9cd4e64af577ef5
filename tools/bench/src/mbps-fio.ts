// `npm run bench:mbps`: null_blk's `mbps` measured with fio. A cluster as `npm run bench`
// starts it (private Redis, every service, NBD inside dispatch), one disk per row with
// `mbps` set, fio's nbd engine against it for a fixed time, and the MiB/s fio measured next
// to the cap, with the throttle's own counters from the process that runs the driver.
//
//   node dist/tools/bench/src/mbps-fio.js [--mbps 20] [--placement local|remote] [--rw write,read]
//     [--bs 4k,128k] [--qd 32] [--seconds 10] [--out docs/bench/mbps]
//
// Contract: a benchmark figure, not a test: it prints and writes what fio measured
// (`report.txt`, `results.json` in --out) and exits 0 whatever the figure; a fio or
// cluster failure exits 1 with the reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseByteCount, parseInteger } from '../../rnullctl/src/arg-parser';
import { BenchCluster } from './bench-cluster';
import { type BenchConfig, type BenchRw, RW_VALUES } from './bench-matrix';
import { stopAllChildren } from './external-tool';
import { runFio } from './fio-job';

interface MbpsOptions {
  mbps: number;
  placement: 'local' | 'remote';
  rw: BenchRw[];
  bs: number[];
  qd: number;
  seconds: number;
  out: string;
}

interface MbpsRow {
  readonly mbps: number;
  readonly placement: string;
  readonly rw: string;
  readonly bs: number;
  readonly qd: number;
  readonly seconds: number;
  readonly mibPerSec: number;
  /** fio's MiB/s over the cap. */
  readonly ofCap: number;
  readonly throttledRequests: number;
  readonly throttledSeconds: number;
}

const SIZE_MIB = 1024;

const USAGE = `usage: npm run bench:mbps -- [options]
  --mbps N             the disks' mbps (1..40960, default 20)
  --placement WHERE    local (the driver inside dispatch, default) or remote (rnull workers)
  --rw LIST            ${RW_VALUES.join(',')} (default write,read)
  --bs LIST            block sizes, e.g. 4k,128k (default 4k,128k)
  --qd N               fio iodepth (default 32)
  --seconds S          per row (default 10)
  --out DIR            where report.txt and results.json go (default docs/bench/mbps)
`;

/** `--help` was asked for: print the usage and exit 0. */
export class HelpRequested extends Error {}

export function parse(argv: readonly string[]): MbpsOptions {
  const o: MbpsOptions = {
    mbps: 20,
    placement: 'local',
    rw: ['write', 'read'],
    bs: [4096, 131072],
    qd: 32,
    seconds: 10,
    out: 'docs/bench/mbps',
  };
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested();
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${name}: needs a value; see --help`);
    if (name === '--mbps') o.mbps = parseInteger(value, '--mbps', 1, 40960);
    else if (name === '--placement') {
      if (value !== 'local' && value !== 'remote') throw new Error(`--placement: want local or remote, got ${JSON.stringify(value)}`);
      o.placement = value;
    } else if (name === '--rw') {
      const bad = value.split(',').filter((rw) => !(RW_VALUES as readonly string[]).includes(rw));
      if (bad.length) throw new Error(`--rw: unknown ${bad.join(', ')} (accepted: ${RW_VALUES.join(', ')})`);
      o.rw = value.split(',') as BenchRw[];
    } else if (name === '--bs') o.bs = value.split(',').map((b) => Number(parseByteCount(b, '--bs')));
    else if (name === '--qd') o.qd = parseInteger(value, '--qd', 1, 1024);
    else if (name === '--seconds') o.seconds = parseInteger(value, '--seconds', 1, 600);
    else if (name === '--out') o.out = value;
    else throw new Error(`unknown option ${name}; see --help`);
  }
  return o;
}

/** `name{disk}` summed over every process whose metrics carry it. */
async function metricSum(bc: BenchCluster, name: string, disk: string): Promise<number> {
  let sum = 0;
  for (const samples of (await bc.scrapeAll()).values())
    for (const s of samples) if (s.name === name && s.labels.disk === disk) sum += s.value;
  return sum;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const bc = await new BenchCluster({ sizeMiB: SIZE_MIB, completionNsec: 1_000_000, placement: o.placement }).start();
  const rows: MbpsRow[] = [];
  try {
    for (const rw of o.rw) {
      for (const bs of o.bs) {
        const c: BenchConfig = { rw, bs, qd: o.qd, irqmode: 0, memoryBacked: true };
        const disk = await bc.createDisk(c, { mbps: o.mbps });
        const m = await runFio(c, `nbd://${bc.nbdAddress}/${disk.name}`, o.seconds, SIZE_MIB);
        const row: MbpsRow = {
          mbps: o.mbps,
          placement: o.placement,
          rw,
          bs,
          qd: o.qd,
          seconds: m.seconds,
          mibPerSec: m.mibPerSec,
          ofCap: m.mibPerSec / o.mbps,
          throttledRequests: await metricSum(bc, 'rnull_throttled_requests_total', disk.name),
          throttledSeconds: await metricSum(bc, 'rnull_throttled_seconds_total', disk.name),
        };
        rows.push(row);
        process.stdout.write(`${line(row)}\n`);
        await bc.deleteDisk(disk.name);
      }
    }
  } finally {
    await bc.stop();
  }
  fs.mkdirSync(o.out, { recursive: true });
  const header = `mbps=${o.mbps} placement=${o.placement} qd=${o.qd} ${o.seconds} s per row, fio nbd engine, memory-backed, irqmode 0`;
  fs.writeFileSync(path.join(o.out, 'report.txt'), [header, ...rows.map(line)].join('\n') + '\n');
  fs.writeFileSync(path.join(o.out, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
}

function line(r: MbpsRow): string {
  return (
    `${r.rw.padEnd(6)} bs ${String(r.bs / 1024).padStart(4)}k qd ${r.qd}: ${r.mibPerSec.toFixed(2)} MiB/s ` +
    `(${(r.ofCap * 100).toFixed(1)} % of ${r.mbps}), ${r.throttledRequests} requests throttled, ` +
    `queues stopped ${r.throttledSeconds.toFixed(2)} s`
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    if (err instanceof HelpRequested) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    stopAllChildren();
    process.stderr.write(`bench:mbps: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
