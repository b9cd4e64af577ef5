// RnullDriver's fault injection (null_queue_rq's should_timeout_request and
// should_requeue_request), on the in-process engine of #blk-mq with a fake backing: a
// timeout fault moves no data and is ended TIMEOUT by the engine's timeout handler (the
// tag comes back, a late complete is refused), a requeue fault is answered RESOURCE and
// served on a later dispatch, and every fault is reported.
import { BlkStatus, GenDiskBuilder, type GenDisk, ReqOp, TagSet } from '#blk-mq';
import { applyAttributes, capacitySectors, DEFAULT_ATTRIBUTES, type DiskAttributes } from './disk-attributes';
import { RnullDriver, type RnullPdu } from './rnull-driver';
import type { RequestFaultKind } from './rnull-faults';
import { RnullFaults } from './rnull-faults';
import { FakeBacking } from './testing/fake-backing';

const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);

/** A 1 MiB disk with `changes`, on a 4-tag set, timeout scans every 5 ms. */
function faultyDisk(changes: Partial<DiskAttributes>) {
  const attributes = applyAttributes(DEFAULT_ATTRIBUTES, { size: 1, timeoutMs: 50, ...changes }, false);
  const store = new Uint8Array(capacitySectors(attributes) * 512);
  const backing = new FakeBacking(store);
  const faults: RequestFaultKind[] = [];
  const driver = new RnullDriver(attributes, backing, { injectedFault: (kind) => void faults.push(kind) });
  const tagSet = new TagSet({ nrHwQueues: 1, queueDepth: 4, timeoutMs: attributes.timeoutMs, recycle: attributes.recycle });
  const disk: GenDisk<RnullPdu> = new GenDiskBuilder()
    .name('rnullb0')
    .capacitySectors(capacitySectors(attributes))
    .logicalBlockSize(attributes.blocksize)
    .queueLimits({ volatileWriteCache: true, fua: attributes.fua })
    .build(tagSet, driver, { noMerges: true, timeoutScanMs: 5, requeueDelayMs: 1 });
  return { disk, driver, backing, store, faults };
}

describe('RnullFaults (the decision)', () => {
  it('is not armed without a fault attribute, and decides nothing', () => {
    const f = new RnullFaults({ timeout: '', requeue: '' });
    expect(f.armed).toBe(false);
    expect(f.decide({ bytes: 4096 })).toBeUndefined();
  });

  it('asks the timeout attr, then the requeue attr, once each per request; a requeue wins', () => {
    // timeout: every 2nd call; requeue: every 3rd call.
    const f = new RnullFaults({ timeout: '2,100,0,-1', requeue: '3,100,0,-1' });
    const kinds = Array.from({ length: 6 }, () => f.decide({ bytes: 512 }));
    expect(kinds).toEqual([undefined, 'timeout', 'requeue', 'timeout', undefined, 'requeue']);
  });

  it("takes a request's bytes from space", () => {
    const f = new RnullFaults({ timeout: '1,100,8192,-1', requeue: '' });
    expect([f.decide({ bytes: 4096 }), f.decide({ bytes: 4096 }), f.decide({ bytes: 4096 })]).toEqual([undefined, 'timeout', 'timeout']);
  });

  it('keeps the running state of an unchanged attribute and starts again on a new one', () => {
    const f = new RnullFaults({ timeout: '1,100,0,1', requeue: '' });
    expect(f.decide({ bytes: 1 })).toBe('timeout');
    f.follow({ timeout: '1,100,0,1', requeue: '' });
    expect(f.decide({ bytes: 1 })).toBeUndefined(); // times spent
    f.follow({ timeout: '1,100,0,2', requeue: '' });
    expect([f.decide({ bytes: 1 }), f.decide({ bytes: 1 }), f.decide({ bytes: 1 })]).toEqual(['timeout', 'timeout', undefined]);
  });
});

describe('RnullDriver fault injection', () => {
  it('timeout: the chosen request moves no data and never completes; the timeout handler ends it TIMEOUT and frees its tag', async () => {
    const { disk, backing, store, faults } = faultyDisk({ timeout: '2,100,0,1' }); // the 2nd request, once
    const first = await disk.submit({ op: ReqOp.WRITE, sector: 0, data: fill(4096, 0x11) });
    const t0 = Date.now();
    const second = await disk.submit({ op: ReqOp.WRITE, sector: 8, data: fill(4096, 0x22) });
    expect(first.status).toBe(BlkStatus.OK);
    expect(second.status).toBe(BlkStatus.TIMEOUT);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(faults).toEqual(['timeout']);
    expect(backing.seen).toEqual([{ op: ReqOp.WRITE, sector: 0, bytes: 4096 }]);
    expect(store.subarray(8 * 512, 16 * 512)).toEqual(fill(4096, 0));
    await disk.drain(); // every tag IDLE again (I3)
    expect(disk.stats().busySlots).toBe(0);
    expect(disk.stats().engine.timeouts).toBe(1);
    // times spent: the disk serves every tag again.
    const more = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => disk.submit({ op: ReqOp.READ, sector: i * 8, bytes: 4096 })));
    expect(more.map((c) => c.status)).toEqual(new Array(6).fill(BlkStatus.OK));
  });

  it('timeout with irqmode 1 and 2 too: the others complete, the chosen one ends TIMEOUT once', async () => {
    for (const irqmode of [1, 2] as const) {
      const { disk, faults } = faultyDisk({ irqmode, completionNsec: 1000, timeout: '3,100,0,-1' });
      const done = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => disk.submit({ op: ReqOp.WRITE, sector: i * 8, data: fill(4096, i) })));
      expect(done.map((c) => c.status)).toEqual([
        BlkStatus.OK,
        BlkStatus.OK,
        BlkStatus.TIMEOUT,
        BlkStatus.OK,
        BlkStatus.OK,
        BlkStatus.TIMEOUT,
      ]);
      expect(faults).toEqual(['timeout', 'timeout']);
      await disk.drain();
      expect(disk.stats().busySlots).toBe(0);
    }
  });

  it('a late complete of a timed-out request is refused (I2)', async () => {
    const { disk, driver } = faultyDisk({ irqmode: 1, timeout: '1,100,0,1' });
    let held: Parameters<RnullDriver['complete']>[0] | undefined;
    const queue = driver.queueRqs.bind(driver);
    driver.queueRqs = async (hctx, rqs) => {
      held ??= rqs[0];
      return queue(hctx, rqs);
    };
    const c = await disk.submit({ op: ReqOp.READ, sector: 0, bytes: 4096 });
    expect(c.status).toBe(BlkStatus.TIMEOUT);
    expect(held!.ended).toBe(true);
    driver.complete(held!); // tryEnd on an ended request: no second end
    await disk.drain();
    expect(disk.stats().engine.completed).toBe(1);
    expect(disk.stats().busySlots).toBe(0);
  });

  it('requeue: the chosen request is answered RESOURCE, requeued, and then served; its data lands', async () => {
    const { disk, backing, store, faults } = faultyDisk({ requeue: '2,100,0,-1' }); // every 2nd call
    const done = await Promise.all([0, 1, 2, 3].map((i) => disk.submit({ op: ReqOp.WRITE, sector: i * 8, data: fill(4096, 0x30 + i) })));
    expect(done.map((c) => c.status)).toEqual(new Array(4).fill(BlkStatus.OK));
    expect(faults.length).toBeGreaterThanOrEqual(2);
    expect(faults.every((k) => k === 'requeue')).toBe(true);
    expect(disk.stats().engine.requeued).toBe(faults.length);
    for (let i = 0; i < 4; i++) expect(store.subarray(i * 4096, (i + 1) * 4096)).toEqual(fill(4096, 0x30 + i));
    // Each write reached the backing once: a requeued request moved nothing the first time.
    expect(backing.seen.filter((s) => s.op === ReqOp.WRITE)).toHaveLength(4);
    await disk.drain();
    expect(disk.stats().busySlots).toBe(0);
  });

  it('a faulted request skips the bad-block check; its batch-mates are checked as usual', async () => {
    const bad = faultyDisk({ timeout: '1,100,0,1', badblocks: '+0-7' });
    const [a, b] = await Promise.all([
      bad.disk.submit({ op: ReqOp.READ, sector: 0, bytes: 4096 }), // timeout fault (first call): no IOERR
      bad.disk.submit({ op: ReqOp.READ, sector: 0, bytes: 4096 }), // bad range: IOERR
    ]);
    expect([a.status, b.status]).toEqual([BlkStatus.TIMEOUT, BlkStatus.IOERR]);
    expect(bad.faults).toEqual(['timeout']);
  });
});
