// DiskDirectory against a real Redis and a real DiskRegistry (I16): an event's record is
// applied as the event arrives, not after a read-back, and no copy ever goes back to an
// earlier revision, whatever order the read-backs answer in.
import { Redis } from 'ioredis';
import { RedisTestEnv, redisUrl } from '../../redis-mq/src/testing/redis-test-env';
import { DiskDirectory } from './disk-directory';
import type { DiskRecord } from './disk-record';
import { DiskRegistry } from './disk-registry';
import { RedisDiskLifecycle } from './redis-disk-lifecycle';

const env = new RedisTestEnv('disk-directory');
const opened: Redis[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.quit()));
  await env.cleanup();
});
afterAll(() => env.close());

/** A registry and a directory that follows it; the directory's reads go through `reads`. */
async function setup() {
  const keys = env.keys();
  const reads = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  const subscriber = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  opened.push(reads, subscriber);
  const registry = new DiskRegistry(env.redis, keys, new RedisDiskLifecycle(env.redis, keys));
  const directory = new DiskDirectory(reads, subscriber, keys);
  const changes: [string, DiskRecord | undefined][] = [];
  directory.on('change', (name, record) => changes.push([name, record]));
  await directory.start();
  return { keys, reads, registry, directory, changes };
}

/** Holds every HGET of `reads` back until `release` is called (a slow read-back). */
function holdReadBacks(reads: Redis) {
  const gates: (() => void)[] = [];
  const hget = reads.hget.bind(reads) as (key: string, field: string) => Promise<string | null>;
  const spy = jest.spyOn(reads, 'hget').mockImplementation(((key: string, field: string) => {
    const answer = hget(key, field); // sent now, as the real one is: its answer is of now
    return new Promise<string | null>((resolve) => gates.push(() => resolve(answer)));
  }) as unknown as typeof reads.hget);
  return {
    held: () => gates.length,
    release: () => {
      spy.mockRestore();
      for (const open of gates.splice(0)) open();
    },
  };
}

async function until(what: () => boolean, ms = 2000): Promise<void> {
  for (const end = Date.now() + ms; !what();) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('DiskDirectory (I16)', () => {
  it("applies an event's record as it arrives, while the read-back is still on its way", async () => {
    const { reads, registry, directory } = await setup();
    await registry.create('ev0', { size: 16 }, true);
    await until(() => directory.get('ev0')?.power === true);

    const gate = holdReadBacks(reads);
    await registry.configure('ev0', { badblocks: '+8-15' });
    await until(() => directory.get('ev0')?.attributes.badblocks === '8 8\n');
    expect(gate.held()).toBeGreaterThan(0); // what applied it was the event, not a read
    gate.release();
    await until(() => gate.held() === 0);
    expect(directory.get('ev0')?.attributes.badblocks).toBe('8 8\n');
  });

  it('keeps the later revision when an earlier read-back answers after it', async () => {
    const { reads, registry, directory, changes } = await setup();
    await registry.create('ev1', { size: 16 }, false);
    await until(() => directory.get('ev1') !== undefined);

    const gate = holdReadBacks(reads);
    const stale = directory.reloadOne('ev1'); // reads the powered-off record, answers late
    await until(() => gate.held() === 1);
    const on = await registry.power('ev1', true);
    await until(() => directory.get('ev1')?.power === true);
    const seen = changes.length;
    gate.release();

    expect(await stale).toEqual(on); // the read answers the copy held, not its own stale find
    await new Promise((r) => setTimeout(r, 50));
    expect(directory.get('ev1')).toEqual(on);
    expect(changes.slice(seen)).toEqual([]); // no flip back to off and on again
  });

  it('does not drop a disk on a read that found nothing before the event of its creation arrived', async () => {
    const { reads, registry, directory } = await setup();
    const gate = holdReadBacks(reads);
    const early = directory.reloadOne('ev2'); // a submission for a disk not created yet
    await until(() => gate.held() === 1);
    const created = await registry.create('ev2', { size: 16 }, false);
    await until(() => directory.get('ev2') !== undefined);
    gate.release();

    expect(await early).toEqual(created);
    expect(directory.get('ev2')).toEqual(created);
  });

  it('removes a deleted disk (its event has no record; the read-back finds none)', async () => {
    const { registry, directory, changes } = await setup();
    await registry.create('ev3', { size: 16 }, true);
    await until(() => directory.get('ev3')?.power === true);
    await registry.delete('ev3');
    await until(() => directory.get('ev3') === undefined);
    expect(changes.at(-1)).toEqual(['ev3', undefined]);
  });
});
