// DiskWorkers (unit): a replace that is still closing the old set when close() comes
// starts no new set (its workers would outlive the shutdown and keep the process alive).
import { type ClosableWorker, DiskWorkers } from './disk-workers';

class SlowWorker implements ClosableWorker {
  closed = false;
  constructor(private readonly closeMs = 0) {}
  async close(): Promise<void> {
    await new Promise((r) => setTimeout(r, this.closeMs));
    this.closed = true;
  }
}

it('starts nothing in a replace that close() overtook, and closes every set it holds', async () => {
  const workers = new DiskWorkers<SlowWorker>();
  const first = new SlowWorker(50);
  await workers.replace('d0', () => [first]);
  const started: SlowWorker[] = [];
  const replacing = workers.replace('d0', () => {
    const w = new SlowWorker();
    started.push(w);
    return [w];
  });
  await workers.close();
  await replacing;
  expect(first.closed).toBe(true);
  expect(started).toEqual([]);
  expect(workers.disks()).toEqual([]);
});

it('replaces a set: the old one is closed before the new one starts', async () => {
  const workers = new DiskWorkers<SlowWorker>();
  const old = new SlowWorker(10);
  await workers.replace('d0', () => [old]);
  let oldClosedAtStart: boolean | undefined;
  await workers.replace('d0', () => {
    oldClosedAtStart = old.closed;
    return [new SlowWorker()];
  });
  expect(oldClosedAtStart).toBe(true);
  expect(workers.disks()).toEqual(['d0']);
  await workers.close();
});
