// `npm run bench:scale`: the same `npm run bench` arguments run on several cluster shapes
// (more dispatch instances, more workers, a Redis Cluster), interleaved round by round so
// a noisy machine's drift spreads over every shape, then one table: per shape and
// configuration the median IOPS, its ratio to the first shape, and the median CPU µs per IO
// of each process role. It is how a machine with more cores measures scale-out, and how
// docs/bench/scale-out was made.
//
//   node dist/tools/bench/src/scale-out.js [--rounds 2] [--out DIR] [--shapes NAME,…] -- <bench args>
//
// Contract:
//   - Each run is `dist/tools/bench/src/main.js <bench args> <shape args> --out DIR/<shape>-r<k>`
//     in this tree (ab-compare's `runBench`); a failed run is reported and counted out, the others go on.
//   - The pure part (`summarizeShapes`) turns results.json rows into the table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderTable } from '../../rnullctl/src/text-format';
import { median, rowKey, runBench, type JsonRow } from './ab-compare';

/** A cluster shape: a name and the bench options that make it. */
export interface Shape {
  readonly name: string;
  readonly args: readonly string[];
}

/** The shapes measured by default: the first is the baseline of every ratio. */
export const SHAPES: readonly Shape[] = [
  { name: 'd1', args: [] },
  { name: 'd2', args: ['--dispatch', '2'] },
  { name: 'rc-d1', args: ['--redis-cluster'] },
  { name: 'rc-d2', args: ['--redis-cluster', '--dispatch', '2'] },
  { name: 'remote-w1', args: ['--placement', 'remote'] },
  { name: 'remote-w2', args: ['--placement', 'remote', '--rnull', '2', '--completion', '2'] },
];

/** The process roles shown, in this order (bench-report's CPU roles). */
const ROLES = ['redis', 'redis-replica', 'dispatch', 'rnull', 'completion', 'gendisk', 'client'] as const;

export interface ShapeRun {
  readonly shape: string;
  readonly rows: readonly JsonRow[];
}

const fmt = (x: number | undefined, digits: number) => (x === undefined ? '-' : x.toFixed(digits));

/** The table: one line per (configuration, shape) in shape order, medians over rounds. */
export function summarizeShapes(shapes: readonly string[], runs: readonly ShapeRun[]): string {
  const keys = [...new Set(runs.flatMap((r) => r.rows.filter((x) => x.m).map(rowKey)))];
  const body: string[][] = [];
  for (const key of keys) {
    const iopsOf = (shape: string) =>
      median(runs.filter((r) => r.shape === shape).flatMap((r) => r.rows.filter((x) => rowKey(x) === key && x.m).map((x) => x.m!.iops)));
    const base = iopsOf(shapes[0]);
    for (const shape of shapes) {
      const rows = runs.filter((r) => r.shape === shape).flatMap((r) => r.rows.filter((x) => rowKey(x) === key && x.m));
      if (!rows.length) continue;
      const iops = iopsOf(shape);
      const cpu = (f: (row: JsonRow) => number | undefined) => median(rows.map(f));
      body.push([
        key,
        shape,
        String(rows.length),
        fmt(iops, 0),
        base && iops !== undefined ? fmt(iops / base, 2) : '-',
        fmt(
          cpu((x) => x.m!.cpu?.totalUs),
          1,
        ),
        ...ROLES.map((role) =>
          fmt(
            cpu((x) => x.m!.cpu?.byProcess?.[role]),
            1,
          ),
        ),
      ]);
    }
  }
  return renderTable(
    ['config', 'shape', 'runs', 'IOPS', `x ${shapes[0]}`, 'cpu µs/IO', 'redis', 'repl', 'dispatch', 'rnull', 'compl', 'gendisk', 'client'],
    body,
  );
}

export interface ScaleArgs {
  readonly rounds: number;
  readonly out: string;
  readonly shapes: readonly Shape[];
  readonly bench: readonly string[];
}

export function parseScaleArgs(argv: readonly string[]): ScaleArgs {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const bench = dash < 0 ? [] : argv.slice(dash + 1);
  let rounds = 2;
  let out = `/tmp/bench-scale-${Date.now()}`;
  let shapes = SHAPES;
  for (let i = 0; i < own.length; i++) {
    const v = own[i + 1];
    if (own[i] === '--rounds' && /^\d+$/.test(v ?? '') && Number(v) >= 1) rounds = Number(own[++i]);
    else if (own[i] === '--out' && v) out = own[++i];
    else if (own[i] === '--shapes' && v) {
      const names = own[++i].split(',');
      const unknown = names.filter((n) => !SHAPES.some((s) => s.name === n));
      if (unknown.length) throw new Error(`unknown shape(s) ${unknown.join(', ')}; known: ${SHAPES.map((s) => s.name).join(', ')}`);
      shapes = names.map((n) => SHAPES.find((s) => s.name === n)!);
    } else throw new Error(`bad option ${JSON.stringify(own[i])}: [--rounds N>=1] [--out DIR] [--shapes NAME,…] -- <bench args>`);
  }
  for (const owned of ['--out', '--dispatch', '--rnull', '--completion', '--redis-cluster', '--placement'])
    if (bench.some((a) => a === owned || a.startsWith(`${owned}=`)))
      throw new Error(`${owned} is set by the runner (per shape), not in the bench args`);
  return { rounds, out: path.resolve(out), shapes, bench };
}

/** This tree: dist/tools/bench/src/scale-out.js is four levels down. */
const TREE = path.join(__dirname, '../../../..');

async function main(argv: string[]): Promise<number> {
  let o: ScaleArgs;
  try {
    o = parseScaleArgs(argv);
  } catch (err) {
    process.stderr.write(`bench:scale: ${(err as Error).message}\n`);
    return 2;
  }
  fs.mkdirSync(o.out, { recursive: true });
  const runs: ShapeRun[] = [];
  const started = Date.now();
  const total = o.rounds * o.shapes.length;
  for (let round = 1; round <= o.rounds; round++) {
    for (const shape of o.shapes) {
      const name = `${shape.name}-r${round}`;
      const dir = path.join(o.out, name);
      process.stderr.write(
        `[${((Date.now() - started) / 1000).toFixed(0)} s] run ${runs.length + 1}/${total}: ${name} (${shape.args.join(' ') || 'defaults'})\n`,
      );
      const code = await runBench(TREE, [...o.bench, ...shape.args, '--out', dir], path.join(o.out, `${name}.log`));
      const json = path.join(dir, 'results.json');
      if (code !== 0 || !fs.existsSync(json)) {
        process.stderr.write(`  ${name} failed (exit ${code}); see ${path.join(o.out, `${name}.log`)}\n`);
        continue;
      }
      runs.push({ shape: shape.name, rows: JSON.parse(fs.readFileSync(json, 'utf8')).rows ?? [] });
    }
  }
  const text =
    `scale-out: ${o.rounds} round(s), shapes interleaved: ${o.shapes.map((s) => `${s.name} = ${s.args.join(' ') || 'defaults'}`).join('; ')}\n` +
    `bench arguments: ${o.bench.join(' ') || '(none)'}; medians over rounds; cpu µs/IO is server side (client apart)\n` +
    summarizeShapes(
      o.shapes.map((s) => s.name),
      runs,
    );
  process.stdout.write(text);
  fs.writeFileSync(path.join(o.out, 'scale.txt'), text);
  process.stderr.write(`wrote ${path.join(o.out, 'scale.txt')}\n`);
  return 0;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
