// Interleaved A/B of two built trees: the same `npm run bench` arguments run A, B, A, B, …
// (`--rounds` rounds), each run writing its own --out directory, then one table per
// configuration with every run's IOPS and CPU µs/IO side by side and the ratio B/A of the
// medians. Alternating spreads slow drift of a noisy machine over both sides.
//
//   node dist/tools/bench/src/ab-compare.js --a /work/main --b /work/wt-x [--rounds 3]
//     [--out /tmp/ab] [--harness own|b] [--a-args 'ARGS'] [--b-args 'ARGS']
//     -- --paths a,b --rw randread --bs 4k --qd 32 --irqmode 1 --seconds 4
//
// `--a-args` / `--b-args` add bench arguments (split on spaces) to one side only, so one tree
// can be compared with itself under two settings: --a X --b X --a-args '--redis-thp off'.
//
// Contract:
//   - Each side runs its own `dist/tools/bench/src/main.js` with cwd = its tree; nothing
//     is built here (ab.sh builds first). `--out` is always given to the runs, so no run
//     writes into a tree's docs/bench.
//   - A figure missing on one side (an older tree has no CPU columns) is shown as '-' and
//     gives no ratio. A failed run is reported and counted out; the comparison goes on.
//   - `--harness b` measures A with B's harness (so both sides get the same columns, e.g.
//     CPU per IO against a main that predates them): A runs in an overlay directory that
//     holds a copy of B's dist/tools and links to A's package.json, node_modules,
//     dist/libs and dist/services. The services are A's; the load, the sampling and path d's
//     engine come from A's libs through the overlay's package.json imports.
//   - The pure part (`summarize`) turns results.json files into the table.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderTable } from '../../rnullctl/src/text-format';

export interface JsonRow {
  path: string;
  status: string;
  config: { rw: string; bs: number; qd: number; irqmode: number; memoryBacked: boolean };
  m?: { iops: number; cpu?: { totalUs?: number; byProcess?: Record<string, number> } };
}

interface JsonSizeRow {
  maxSectors?: number;
  op: string;
  bytes: number;
  submissions: number;
  status: string;
  seconds?: number;
}

/** What the comparison reads of one run's results.json. */
export interface RunResult {
  readonly side: 'A' | 'B';
  readonly round: number;
  readonly rows: readonly JsonRow[];
  readonly sizes?: readonly JsonSizeRow[];
}

export interface Figure {
  readonly key: string;
  readonly metric: string;
  readonly a: (number | undefined)[];
  readonly b: (number | undefined)[];
}

export function median(xs: readonly (number | undefined)[]): number | undefined {
  const s = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((p, q) => p - q);
  if (!s.length) return undefined;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmtBs(b: number): string {
  return b % 1048576 === 0 ? `${b / 1048576}M` : b % 1024 === 0 ? `${b / 1024}k` : String(b);
}

export function rowKey(r: JsonRow): string {
  const c = r.config;
  return `${r.path} ${c.rw} ${fmtBs(c.bs)} qd${c.qd} irq${c.irqmode} mb${c.memoryBacked ? 1 : 0}`;
}

/** Every (configuration, metric) with one value per run of each side, in run order. */
export function summarize(runs: readonly RunResult[]): Figure[] {
  const figures = new Map<string, Figure>();
  const put = (key: string, metric: string, run: RunResult, rounds: number, v: number | undefined) => {
    const id = `${key}\u0000${metric}`;
    let f = figures.get(id);
    if (!f) figures.set(id, (f = { key, metric, a: Array(rounds).fill(undefined), b: Array(rounds).fill(undefined) }));
    (run.side === 'A' ? f.a : f.b)[run.round] = v;
  };
  const rounds = Math.max(0, ...runs.map((r) => r.round + 1));
  for (const run of runs) {
    for (const r of run.rows) {
      const ok = r.status === 'ok' ? r.m : undefined;
      put(rowKey(r), 'IOPS', run, rounds, ok?.iops);
      put(rowKey(r), 'cpu µs/IO', run, rounds, ok?.cpu?.totalUs);
      put(rowKey(r), 'redis µs/IO', run, rounds, ok?.cpu?.byProcess?.redis);
      put(rowKey(r), 'dispatch µs/IO', run, rounds, ok?.cpu?.byProcess?.dispatch);
    }
    for (const s of run.sizes ?? []) {
      const key = `sizes ${s.bytes / 1048576} MiB ${s.op} max_sectors=${s.maxSectors ?? 'default'}`;
      put(key, 'seconds', run, rounds, s.status === 'ok' ? s.seconds : undefined);
    }
  }
  return [...figures.values()];
}

const fmt = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(2));

export function renderComparison(figures: readonly Figure[]): string {
  const rounds = Math.max(0, ...figures.map((f) => f.a.length));
  const head = [
    'configuration',
    'metric',
    ...Array.from({ length: rounds }, (_, i) => `A${i + 1}`),
    ...Array.from({ length: rounds }, (_, i) => `B${i + 1}`),
    'A med',
    'B med',
    'B/A',
  ];
  const body = figures
    .filter((f) => [...f.a, ...f.b].some((v) => v !== undefined))
    .map((f) => {
      const ma = median(f.a);
      const mb = median(f.b);
      return [f.key, f.metric, ...f.a.map(fmt), ...f.b.map(fmt), fmt(ma), fmt(mb), ma && mb !== undefined ? (mb / ma).toFixed(3) : '-'];
    });
  return renderTable(head, body);
}

interface AbArgs {
  a: string;
  b: string;
  harness: 'own' | 'b';
  rounds: number;
  out: string;
  bench: string[];
  /** Bench arguments for one side only, after the common ones. */
  aArgs: string[];
  bArgs: string[];
}

const words = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter(Boolean);

export function parseAbArgs(argv: readonly string[]): AbArgs {
  const sep = argv.indexOf('--');
  const own = sep < 0 ? argv : argv.slice(0, sep);
  const bench = sep < 0 ? [] : argv.slice(sep + 1);
  const get = (flag: string) => {
    const i = own.indexOf(flag);
    return i >= 0 ? own[i + 1] : undefined;
  };
  const a = get('--a');
  const b = get('--b');
  if (!a || !b)
    throw new Error('usage: ab-compare --a DIR --b DIR [--rounds N] [--out DIR] [--harness own|b] -- <npm run bench arguments>');
  if ([...bench, ...words(get('--a-args')), ...words(get('--b-args'))].includes('--out'))
    throw new Error('give --out before "--": each run gets its own directory under it');
  const harness = get('--harness') ?? 'own';
  if (harness !== 'own' && harness !== 'b') throw new Error('--harness must be "own" (each tree its own) or "b" (B\'s harness for both)');
  const rounds = Number(get('--rounds') ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a whole number >= 1');
  return {
    a: path.resolve(a),
    b: path.resolve(b),
    harness,
    rounds,
    out: path.resolve(get('--out') ?? `/tmp/bench-ab-${Date.now()}`),
    bench,
    aArgs: words(get('--a-args')),
    bArgs: words(get('--b-args')),
  };
}

/** Runs `tree`'s bench (`dist/tools/bench/src/main.js`, cwd `tree`) with `args`, output into `log`; resolves its exit code. */
export function runBench(tree: string, args: readonly string[], log: string): Promise<number | null> {
  return new Promise((resolve) => {
    const main = path.join(tree, 'dist/tools/bench/src/main.js');
    const fd = fs.openSync(log, 'w');
    const child = spawn(process.execPath, [main, ...args], { cwd: tree, stdio: ['ignore', fd, fd] });
    child.on('close', (code) => {
      fs.closeSync(fd);
      resolve(code);
    });
  });
}

/** A directory that runs B's harness (dist/tools copied) on A's services and libs (linked). */
export function makeOverlay(a: string, b: string, dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(a, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(a, 'node_modules'), path.join(dir, 'node_modules'));
  for (const sub of ['libs', 'services']) fs.symlinkSync(path.join(a, 'dist', sub), path.join(dir, 'dist', sub));
  // A copy, not a link: the harness finds the services from its own (unresolved) location.
  fs.cpSync(path.join(b, 'dist/tools'), path.join(dir, 'dist/tools'), { recursive: true });
  return dir;
}

async function main(argv: string[]): Promise<number> {
  let o: AbArgs;
  try {
    o = parseAbArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  for (const t of [o.a, o.b]) {
    if (!fs.existsSync(path.join(t, 'dist/tools/bench/src/main.js'))) {
      process.stderr.write(`${t} has no dist/tools/bench/src/main.js: build it (npm run build)\n`);
      return 2;
    }
  }
  fs.mkdirSync(o.out, { recursive: true });
  const treeA = o.harness === 'b' ? makeOverlay(o.a, o.b, path.join(o.out, 'overlay-A')) : o.a;
  const runs: RunResult[] = [];
  const started = Date.now();
  for (let round = 0; round < o.rounds; round++) {
    for (const side of ['A', 'B'] as const) {
      const tree = side === 'A' ? treeA : o.b;
      const dir = path.join(o.out, `${side}${round + 1}`);
      const t0 = Date.now();
      process.stderr.write(`[${((t0 - started) / 1000).toFixed(0)} s] round ${round + 1}/${o.rounds} ${side} (${tree}) -> ${dir}\n`);
      const extra = side === 'A' ? o.aArgs : o.bArgs;
      const code = await runBench(tree, [...o.bench, ...extra, '--out', dir], path.join(o.out, `${side}${round + 1}.log`));
      const json = path.join(dir, 'results.json');
      if (code !== 0 || !fs.existsSync(json)) {
        process.stderr.write(`  ${side}${round + 1} failed (exit ${code}); see ${path.join(o.out, `${side}${round + 1}.log`)}\n`);
        continue;
      }
      const r = JSON.parse(fs.readFileSync(json, 'utf8'));
      runs.push({ side, round, rows: r.rows ?? [], sizes: r.sizes?.rows });
      process.stderr.write(`  done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    }
  }
  const text =
    `A/B: A = ${o.a}${o.harness === 'b' ? " (run with B's harness)" : ''}${o.aArgs.length ? ` with ${o.aArgs.join(' ')}` : ''}, B = ${o.b}${o.bArgs.length ? ` with ${o.bArgs.join(' ')}` : ''}, ${o.rounds} round(s) A,B interleaved; bench arguments: ${o.bench.join(' ') || '(none)'}\n` +
    renderComparison(summarize(runs));
  process.stdout.write(text);
  fs.writeFileSync(path.join(o.out, 'ab.txt'), text);
  process.stderr.write(`wrote ${path.join(o.out, 'ab.txt')}\n`);
  return 0;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
