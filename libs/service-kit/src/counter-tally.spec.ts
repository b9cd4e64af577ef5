import { Counter, Registry } from 'prom-client';
import { CounterTally } from './counter-tally';

function tallied(): { registry: Registry; counter: Counter<'disk' | 'op'>; tally: CounterTally<'disk' | 'op'> } {
  const registry = new Registry();
  const counter: Counter<'disk' | 'op'> = new Counter({
    name: 'test_ops_total',
    help: 'ops',
    labelNames: ['disk', 'op'],
    registers: [registry],
    collect: () => tally.flush(),
  });
  const tally = new CounterTally(counter, (disk, op) => ({ disk, op: op === 0 ? 'read' : 'write' }));
  return { registry, counter, tally };
}

async function values(counter: Counter<'disk' | 'op'>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await counter.get()).values) out[`${v.labels.disk}/${v.labels.op}`] = v.value;
  return out;
}

describe('CounterTally', () => {
  it('adds each series its own increments when the counter is read', async () => {
    const { counter, tally } = tallied();
    tally.add('nullb0', 0);
    tally.add('nullb0', 0);
    tally.add('nullb0', 1, 4096);
    tally.add('nullb1', 1, 512);
    expect(await values(counter)).toEqual({ 'nullb0/read': 2, 'nullb0/write': 4096, 'nullb1/write': 512 });
  });

  it('adds nothing twice: a second read without new increments gives the same values', async () => {
    const { counter, tally } = tallied();
    tally.add('nullb0', 1, 3);
    expect(await values(counter)).toEqual({ 'nullb0/write': 3 });
    expect(await values(counter)).toEqual({ 'nullb0/write': 3 });
    tally.add('nullb0', 1, 2);
    tally.add('nullb0', 0);
    expect(await values(counter)).toEqual({ 'nullb0/write': 5, 'nullb0/read': 1 });
  });

  it('is exact in a scrape of the registry', async () => {
    const { registry, tally } = tallied();
    tally.add('nullb0', 0, 7);
    expect(await registry.metrics()).toContain('test_ops_total{disk="nullb0",op="read"} 7');
  });

  it('sums with increments made on the counter directly', async () => {
    const { counter, tally } = tallied();
    counter.inc({ disk: 'nullb0', op: 'read' }, 10);
    tally.add('nullb0', 0, 5);
    expect(await values(counter)).toEqual({ 'nullb0/read': 15 });
  });
});
