import { parseAbArgs, renderComparison, summarize, type RunResult } from './ab-compare';

const config = { rw: 'randread', bs: 4096, qd: 32, irqmode: 1, memoryBacked: true };
const run = (side: 'A' | 'B', round: number, iops: number, cpu?: number): RunResult => ({
  side,
  round,
  rows: [
    {
      path: 'a',
      status: 'ok',
      config,
      m: { iops, ...(cpu === undefined ? {} : { cpu: { totalUs: cpu, byProcess: { redis: cpu / 4, dispatch: cpu / 2 } } }) },
    },
  ],
});

describe('ab-compare', () => {
  it('puts each run of a side in its round and takes B/A of the medians', () => {
    const figures = summarize([
      run('A', 0, 100),
      run('B', 0, 150, 40),
      run('A', 1, 120),
      run('B', 1, 170, 60),
      run('A', 2, 110),
      run('B', 2, 160, 50),
    ]);
    const iops = figures.find((f) => f.metric === 'IOPS')!;
    expect(iops.key).toBe('a randread 4k qd32 irq1 mb1');
    expect(iops.a).toEqual([100, 120, 110]);
    expect(iops.b).toEqual([150, 170, 160]);
    const text = renderComparison(figures);
    expect(text).toMatch(/a randread 4k qd32 irq1 mb1\s+IOPS\s+100\s+120\s+110\s+150\s+170\s+160\s+110\s+160\s+1\.455/);
    // A has no CPU figures (an older tree): '-' and no ratio.
    expect(text).toMatch(/cpu µs\/IO\s+-\s+-\s+-\s+40\.00\s+60\.00\s+50\.00\s+-\s+50\.00\s+-/);
    // Dispatch, the largest process of the sum, has its own row.
    expect(text).toMatch(/dispatch µs\/IO\s+-\s+-\s+-\s+20\.00\s+30\.00\s+25\.00\s+-\s+25\.00\s+-/);
  });

  it('keeps a failed run as a gap', () => {
    const f = summarize([run('A', 0, 100), run('B', 1, 90)]).find((x) => x.metric === 'IOPS')!;
    expect(f.a).toEqual([100, undefined]);
    expect(f.b).toEqual([undefined, 90]);
  });

  it('parses its own options before "--" and refuses a bench --out', () => {
    const o = parseAbArgs(['--a', '/x', '--b', '/y', '--rounds', '2', '--', '--paths', 'a']);
    expect(o).toMatchObject({ a: '/x', b: '/y', rounds: 2, bench: ['--paths', 'a'] });
    expect(() => parseAbArgs(['--a', '/x'])).toThrow(/usage/);
    expect(() => parseAbArgs(['--a', '/x', '--b', '/y', '--', '--out', '/z'])).toThrow(/--out/);
  });

  it('adds --a-args and --b-args to one side only, and refuses an --out among them', () => {
    const o = parseAbArgs(['--a', '/x', '--b', '/x', '--a-args', '--redis-thp  off', '--', '--paths', 'b']);
    expect(o).toMatchObject({ bench: ['--paths', 'b'], aArgs: ['--redis-thp', 'off'], bArgs: [] });
    expect(() => parseAbArgs(['--a', '/x', '--b', '/y', '--b-args', '--out /z'])).toThrow(/--out/);
  });
});
