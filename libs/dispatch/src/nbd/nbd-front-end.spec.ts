import pino from 'pino';
import { Registry } from 'prom-client';
import { NbdCmd, type NbdErrno } from '#nbd';
import { MemoryBackend } from '../../../nbd/src/testing/memory-backend';
import type { RawNbdClient } from '../../../nbd/src/testing/raw-nbd-client';
import { attach, MiB } from '../../../nbd/src/testing/serve';
import { NbdFrontEnd } from './nbd-front-end';
import { readNbdEnv } from './nbd-env';

describe('NbdFrontEnd command counter', () => {
  let front: NbdFrontEnd;
  let client: RawNbdClient | undefined;
  const registry = new Registry();
  const backend = new MemoryBackend([
    { name: 'rnullb0', sizeBytes: 4n * MiB, blockSize: 4096, writeCache: true, fua: true, discard: true, rotational: false },
  ]);

  beforeAll(async () => {
    const env = readNbdEnv({ NBD_PORT: '0', NBD_HOST: '127.0.0.1' });
    front = new NbdFrontEnd(backend, env, 'dispatch', registry, pino({ level: 'silent' }));
    await front.listen();
  });
  afterAll(async () => {
    client?.destroy();
    backend.releaseAll();
    await front.close();
  });

  it('counts NBD errnos through the tally and an errno beyond its slots directly, each once', async () => {
    client = await attach(Number(front.address.split(':')[1]));
    backend.hold = true;
    // A backend may answer any errno; 2000 is past the tally's 1024 slots per command.
    const answers: { errno: number; message?: string }[] = [
      { errno: 0 },
      { errno: 5, message: 'EIO here' },
      { errno: 2000, message: 'odd' },
    ];
    answers.forEach((_, i) => client!.send(NbdCmd.READ, BigInt(i + 1), 0n, 4096));
    while (backend.held.length < answers.length) await new Promise((r) => setTimeout(r, 5));
    [...backend.held].forEach((h, i) => {
      const a = answers[i];
      h.release(a.errno === 0 ? undefined : { errno: a.errno as NbdErrno, message: a.message });
    });
    const errnos: number[] = [];
    for (let i = 0; i < answers.length; i++) {
      errnos.push((await client.readSimpleReply()).errno);
      if (errnos[i] === 0) await client.read(4096);
    }
    expect(errnos.sort((x, y) => x - y)).toEqual([0, 5, 2000]);

    // The tally is flushed when the registry is read: every command once, also when read twice.
    for (let scrape = 0; scrape < 2; scrape++) {
      const lines = (await registry.metrics()).split('\n');
      expect(lines.filter((l) => l.startsWith('rnull_nbd_commands_total{')).sort()).toEqual(
        ['2000', 'EIO', 'ok'].map((error) => `rnull_nbd_commands_total{service="dispatch",command="read",error="${error}"} 1`),
      );
    }
  });
});
