// BadBlockReporter: a driver's bad-block hits as metrics, log lines and, for a hit that
// cleared its entry (badblocks_once), one "-FIRST-LAST" write sent to gendisk.
import { Registry } from 'prom-client';
import type { BadBlockEvent } from '#rnull';
import { BlockMetrics } from '#service-kit';
import { BadBlockReporter, badBlocksWriterOf } from './bad-block-reporter';

const hit = (over: Partial<BadBlockEvent> = {}): BadBlockEvent => ({
  sector: 8,
  sectors: 16,
  firstBad: 16,
  badSectors: 8,
  transferredSectors: 0,
  cleared: false,
  ...over,
});

async function hits(metrics: BlockMetrics, disk: string): Promise<number> {
  const m = await metrics.badBlockHits.get();
  return m.values.find((v) => v.labels.disk === disk)?.value ?? 0;
}

describe('BadBlockReporter', () => {
  it('counts every hit per disk and sends a clear only for a once-cleared entry', async () => {
    const metrics = new BlockMetrics(new Registry(), 'rnull');
    const writes: [string, string][] = [];
    const reporter = new BadBlockReporter({ metrics }, async (disk, command) => writes.push([disk, command]));
    const events = reporter.eventsFor('d0');
    events.badBlockHit!(hit());
    events.badBlockHit!(hit({ cleared: true }));
    reporter.eventsFor('d1').badBlockHit!(hit({ firstBad: 512, badSectors: 512, cleared: true }));
    expect(await hits(metrics, 'd0')).toBe(2);
    expect(await hits(metrics, 'd1')).toBe(1);
    expect(writes).toEqual([
      ['d0', '-16-23'],
      ['d1', '-512-1023'],
    ]);
  });

  it('logs a failed clear instead of throwing', async () => {
    const warn = jest.fn();
    const log = { info: jest.fn(), warn } as never;
    const reporter = new BadBlockReporter({ log }, () => Promise.reject(new Error('gendisk unavailable')));
    reporter.eventsFor('d0').badBlockHit!(hit({ cleared: true }));
    await new Promise((r) => setImmediate(r));
    expect(warn).toHaveBeenCalledWith({ disk: 'd0', err: 'gendisk unavailable' }, 'clearing a once-bad range in the registry failed');
  });

  it('badBlocksWriterOf sends the write as a GenDisk ConfigureDisk of badblocks', async () => {
    const call = jest.fn().mockResolvedValue({});
    await badBlocksWriterOf({ call } as never)('d0', '-1-2');
    expect(call).toHaveBeenCalledWith('ConfigureDisk', { name: 'd0', attributes: { badblocks: '-1-2' } });
  });
});
