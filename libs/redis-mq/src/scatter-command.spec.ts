// ScatterCommand: the same bytes on the wire as ioredis's own command, the Buffers handed
// to the socket themselves (not copied), one socket write, and real replies from Redis,
// also when the command waits in ioredis's offline queue.
import { randomBytes } from 'node:crypto';
import { Command, Redis } from 'ioredis';
import { SCATTER_MIN_BYTES, ScatterCommand, sendScattered } from './scatter-command';
import { sendTogether } from './send-together';
import { RedisTestEnv, redisUrl } from './testing/redis-test-env';
import { recordSocketWrites } from './testing/socket-writes';

const env = new RedisTestEnv('scatter-command');
afterEach(() => env.cleanup());
afterAll(() => env.close());

/** A socket that records what is written to it and how often it is corked. */
function recordingSocket() {
  const chunks: (Buffer | string)[] = [];
  let corked = 0;
  let uncorked = 0;
  return {
    chunks,
    counts: () => ({ corked, uncorked }),
    cork: () => void corked++,
    uncork: () => void uncorked++,
    write: (c: Buffer | string) => chunks.push(c) > 0,
  };
}

const bytesOf = (parts: readonly (Buffer | string)[]) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));

describe('ScatterCommand', () => {
  it('writes exactly the RESP ioredis would, handing each Buffer argument to the socket itself', async () => {
    const page = randomBytes(4096);
    const small = Buffer.from([0, 255, 13, 10]);
    const args = ['blk:{d0}:stage:1:p7', page, 'käse', small, 42];
    const socket = recordingSocket();
    const tail = new ScatterCommand('mset', args).toWritable(socket);
    const own = new Command('mset', args).toWritable({});
    expect(bytesOf([...socket.chunks, tail]).equals(Buffer.isBuffer(own) ? own : Buffer.from(own))).toBe(true);
    expect(socket.chunks.some((c) => c === page)).toBe(true); // the page itself, not a copy
    expect(socket.counts()).toEqual({ corked: 1, uncorked: 0 });
    await new Promise((r) => process.nextTick(r));
    expect(socket.counts()).toEqual({ corked: 1, uncorked: 1 }); // corked until the next tick only
  });

  it('leaves a command without a large Buffer to ioredis (one Buffer or string, nothing written)', () => {
    const socket = recordingSocket();
    const args = ['k', Buffer.alloc(SCATTER_MIN_BYTES - 1, 1), 'v'];
    const out = new ScatterCommand('mset', args).toWritable(socket);
    expect(socket.chunks).toEqual([]);
    expect(bytesOf([out]).equals(bytesOf([new Command('mset', args).toWritable({})]))).toBe(true);
  });

  it('stores every byte through a real Redis, in order with the commands sent with it, in one socket write', async () => {
    const keys = env.keys();
    const k = (i: number) => `${keys.pagePrefix('d0')}${i}`;
    const pages = Array.from({ length: 12 }, () => randomBytes(4096));
    await env.redis.ping();
    const { result, writes } = await recordSocketWrites(env.redis, () =>
      sendTogether(env.redis, () =>
        Promise.all([
          sendScattered(
            env.redis,
            'mset',
            pages.flatMap((p, i) => [k(i), p]),
          ),
          env.redis.mgetBuffer(...pages.map((_, i) => k(i))),
        ]),
      ),
    );
    const [set, read] = result;
    expect(set).toBe('OK');
    expect(read.every((b, i) => b !== null && b.equals(pages[i]))).toBe(true);
    expect(writes).toHaveLength(1); // the MSET's pieces and the MGET: one writev
  });

  it('is written whole when it waited in the offline queue for the connection', async () => {
    const keys = env.keys();
    const key = `${keys.pagePrefix('d0')}0`;
    const page = randomBytes(8192);
    const late = new Redis(redisUrl(), { lazyConnect: true });
    try {
      expect(late.status).toBe('wait');
      const set = sendScattered(late, 'mset', [key, page]); // queued offline; the send connects
      expect(await set).toBe('OK');
      expect((await env.redis.getBuffer(key))?.equals(page)).toBe(true);
    } finally {
      late.disconnect();
    }
  });

  it('rejects with Redis error replies as any command does', async () => {
    const keys = env.keys();
    const odd = [`${keys.pagePrefix('d0')}1`, Buffer.alloc(4096, 1), `${keys.pagePrefix('d0')}2`];
    await expect(sendScattered(env.redis, 'mset', odd)).rejects.toThrow(/wrong number of arguments/);
    expect(await env.redis.ping()).toBe('PONG'); // the connection's framing is intact after it
  });
});
