// The scale-out runner's arguments and its table of shapes.
import type { JsonRow } from './ab-compare';
import { parseScaleArgs, SHAPES, summarizeShapes } from './scale-out';

const row = (path: string, iops: number, dispatchUs: number): JsonRow => ({
  path,
  status: 'ok',
  config: { rw: 'randread', bs: 4096, qd: 32, irqmode: 1, memoryBacked: true },
  m: { iops, cpu: { totalUs: dispatchUs + 10, byProcess: { redis: 10, dispatch: dispatchUs } } },
});

describe('parseScaleArgs', () => {
  it('takes rounds, out and a subset of shapes before --, the bench arguments after', () => {
    const o = parseScaleArgs(['--rounds', '3', '--out', '/tmp/x', '--shapes', 'd1,rc-d2', '--', '--paths', 'a', '--seconds', '2']);
    expect(o.rounds).toBe(3);
    expect(o.out).toBe('/tmp/x');
    expect(o.shapes.map((s) => s.name)).toEqual(['d1', 'rc-d2']);
    expect(o.bench).toEqual(['--paths', 'a', '--seconds', '2']);
    expect(parseScaleArgs([]).shapes).toBe(SHAPES);
  });

  it('refuses unknown shapes, bad rounds, and bench arguments the shapes set', () => {
    expect(() => parseScaleArgs(['--shapes', 'd9'])).toThrow(/unknown shape\(s\) d9/);
    expect(() => parseScaleArgs(['--rounds', '0'])).toThrow(/bad option/);
    expect(() => parseScaleArgs(['--', '--dispatch', '2'])).toThrow(/--dispatch is set by the runner/);
    expect(() => parseScaleArgs(['--', '--redis-cluster=h:1'])).toThrow(/--redis-cluster is set by the runner/);
  });
});

describe('summarizeShapes', () => {
  it('gives per configuration and shape the median IOPS, the ratio to the first shape and median CPU per role', () => {
    const text = summarizeShapes(
      ['d1', 'd2'],
      [
        { shape: 'd1', rows: [row('a', 1000, 50)] },
        { shape: 'd2', rows: [row('a', 1500, 70)] },
        { shape: 'd1', rows: [row('a', 1200, 60)] },
        { shape: 'd2', rows: [row('a', 1700, 80), { ...row('b', 0, 0), status: 'failed', m: undefined }] },
      ],
    );
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^a randread 4k qd32 irq1 mb1\s+d1\s+2\s+1100\s+1\.00\s+65\.0\s+10\.0\s+-\s+55\.0/);
    expect(lines[2]).toMatch(/^a randread 4k qd32 irq1 mb1\s+d2\s+2\s+1600\s+1\.45\s+85\.0\s+10\.0\s+-\s+75\.0/);
  });
});
