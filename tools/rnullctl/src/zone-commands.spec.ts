import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeRnullServer } from './testing/fake-rnull-server';
import { runCli, CliRunOptions } from './testing/captured-io';

// z0: 8 MiB in 1 MiB zones (2048 sectors), the first conventional; at most 2 zones open.
const ZONE = 2048;

describe('rnullctl zone and io append (against the fake server)', () => {
  let fake: FakeRnullServer;
  let dir: string;
  const cli = (argv: string[], options?: CliRunOptions) => runCli([...argv, '--address', fake.address], options);

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rnullctl-zone-'));
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    fake = await FakeRnullServer.start();
    const created = await cli([
      'disk',
      'create',
      'z0',
      '--size',
      '8',
      '--zoned',
      '1',
      '--zone_size',
      '1',
      '--zone_nr_conv',
      '1',
      '--zone_max_open',
      '2',
      '--power',
    ]);
    expect(created.err).toBe('');
    expect(created.code).toBe(0);
  });

  afterEach(async () => {
    await fake.stop();
  });

  async function file(name: string, data: Buffer): Promise<string> {
    const p = path.join(dir, name);
    await fs.writeFile(p, data);
    return p;
  }

  /** Row `row` of a printed table (0: the header), split into its cells. */
  function cells(out: string, row: number): string[] {
    return out.trimEnd().split('\n')[row].trim().split(/\s+/);
  }

  /** The condition and write pointer of the zone that starts at `start`, from `zone report --json`. */
  async function zone(start: number): Promise<{ cond: string; wp: number | null }> {
    const r = await cli(['zone', 'report', 'z0', '--sector', String(start), '--count', '1', '--json']);
    expect(r.code).toBe(0);
    const [z] = JSON.parse(r.out) as { cond: string; wp: number | null }[];
    return { cond: z.cond, wp: z.wp };
  }

  it('reports every zone as blkzone does: the conventional one first, then EMPTY sequential zones', async () => {
    const r = await cli(['zone', 'report', 'z0']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split('\n')).toHaveLength(9);
    expect(cells(r.out, 0)).toEqual(['START', 'LEN', 'CAP', 'WP', 'TYPE', 'COND']);
    expect(cells(r.out, 1)).toEqual(['0', '2048', '2048', '2048', 'CONVENTIONAL', 'NOT_WP']);
    expect(cells(r.out, 2)).toEqual(['2048', '2048', '2048', '2048', 'SEQWRITE_REQ', 'EMPTY']);
    expect(cells(r.out, 8)).toEqual(['14336', '2048', '2048', '14336', 'SEQWRITE_REQ', 'EMPTY']);
  });

  it('reports a window with --sector (any sector of the first zone) and --count, and as JSON', async () => {
    const r = await cli(['zone', 'report', 'z0', '--sector', String(2 * ZONE + 7), '--count', '2', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      { start: 2 * ZONE, len: ZONE, capacity: ZONE, wp: 2 * ZONE, type: 'SEQWRITE_REQ', cond: 'EMPTY' },
      { start: 3 * ZONE, len: ZONE, capacity: ZONE, wp: 3 * ZONE, type: 'SEQWRITE_REQ', cond: 'EMPTY' },
    ]);
  });

  it('opens, closes, finishes and resets a zone, printing it afterwards', async () => {
    const open = await cli(['zone', 'open', 'z0', '--sector', String(ZONE)]);
    expect(open.err).toBe('');
    expect(cells(open.out, 1)).toEqual(['2048', '2048', '2048', '2048', 'SEQWRITE_REQ', 'EXP_OPEN']);
    // Closed with nothing written, a zone is EMPTY again (null_close_zone).
    await cli(['zone', 'close', 'z0', '--sector', String(ZONE)]);
    expect(await zone(ZONE)).toEqual({ cond: 'EMPTY', wp: ZONE });

    const w = await cli(['io', 'write', '--disk', 'z0', '--sector', String(ZONE), '--file', await file('a.bin', randomBytes(8192))]);
    expect(w.code).toBe(0);
    expect(await zone(ZONE)).toEqual({ cond: 'IMP_OPEN', wp: ZONE + 16 });
    await cli(['zone', 'close', 'z0', '--sector', String(ZONE)]);
    expect(await zone(ZONE)).toEqual({ cond: 'CLOSED', wp: ZONE + 16 });

    const finish = await cli(['zone', 'finish', 'z0', '--sector', String(ZONE), '--json']);
    expect(JSON.parse(finish.out)).toEqual([expect.objectContaining({ start: ZONE, cond: 'FULL', wp: 2 * ZONE })]);
    const reset = await cli(['zone', 'reset', 'z0', '--sector', String(ZONE)]);
    expect(reset.code).toBe(0);
    expect(await zone(ZONE)).toEqual({ cond: 'EMPTY', wp: ZONE });
    // The reset dropped the zone's data.
    const r = await cli(['io', 'read', '--disk', 'z0', '--sector', String(ZONE), '--length', '4096']);
    expect(r.stdout.equals(Buffer.alloc(4096))).toBe(true);
  });

  it('acts on --count zones one after another and stops at the first refusal, naming its status', async () => {
    const two = await cli(['zone', 'open', 'z0', '--sector', String(ZONE), '--count', '2']);
    expect(two.code).toBe(0);
    expect(two.out.match(/EXP_OPEN/g)).toHaveLength(2);
    // zone_max_open is 2: a third explicit open has no open resource left.
    const third = await cli(['zone', 'open', 'z0', '--sector', String(3 * ZONE)]);
    expect(third.code).toBe(1);
    expect(third.err).toBe('rnullctl zone open: ZONE_OPEN z0 sector 6144 completed with STATUS_ZONE_OPEN_RESOURCE: (no message)\n');

    const all = await cli(['zone', 'reset-all', 'z0']);
    expect(all.out).toBe('reset every sequential zone of z0\n');
    expect(await zone(ZONE)).toEqual({ cond: 'EMPTY', wp: ZONE });
    expect(await zone(2 * ZONE)).toEqual({ cond: 'EMPTY', wp: 2 * ZONE });
  });

  it('appends a file and prints the sector where each append landed', async () => {
    const data = randomBytes(4096);
    const first = await cli(['io', 'append', '--disk', 'z0', '--sector', String(ZONE), '--file', await file('b.bin', data)]);
    expect(first.err).toBe('');
    expect(first.out).toBe(`appended 4096 bytes to z0 zone ${ZONE}: landed at sector ${ZONE}\n`);
    const second = await cli(['io', 'append', '--disk', 'z0', '--sector', String(ZONE), '--file', '-'], { stdin: data });
    expect(second.out).toBe(`appended 4096 bytes to z0 zone ${ZONE}: landed at sector ${ZONE + 8}\n`);
    const r = await cli(['io', 'read', '--disk', 'z0', '--sector', String(ZONE + 8), '--length', '4096']);
    expect(r.stdout.equals(data)).toBe(true);
  });

  it('refuses an append to a conventional zone and a write off the write pointer with IOERR', async () => {
    const p = await file('c.bin', randomBytes(4096));
    const conv = await cli(['io', 'append', '--disk', 'z0', '--sector', '0', '--file', p]);
    expect(conv.code).toBe(1);
    expect(conv.err).toMatch(/^rnullctl io append: ZONE_APPEND z0 sector 0 \(4096 bytes\) completed with STATUS_IOERR/);
    const off = await cli(['io', 'write', '--disk', 'z0', '--sector', String(ZONE + 8), '--file', p]);
    expect(off.code).toBe(1);
    expect(off.err).toMatch(/WRITE z0 sector 2056 \(4096 bytes\) completed with STATUS_IOERR/);
  });

  it('makes a zone READ_ONLY or OFFLINE (no write pointer), and EMPTY when set again', async () => {
    const ro = await cli(['zone', 'readonly', 'z0', '--sector', String(ZONE + 100)]);
    expect(ro.err).toBe('');
    expect(cells(ro.out, 1)).toEqual(['2048', '2048', '2048', '-', 'SEQWRITE_REQ', 'READONLY']);
    const again = await cli(['zone', 'readonly', 'z0', '--sector', String(ZONE), '--json']);
    expect(JSON.parse(again.out)).toEqual([expect.objectContaining({ start: ZONE, cond: 'EMPTY', wp: ZONE })]);

    const off = await cli(['zone', 'offline', 'z0', '--sector', String(2 * ZONE), '--json']);
    expect(JSON.parse(off.out)).toEqual([expect.objectContaining({ start: 2 * ZONE, cond: 'OFFLINE', wp: null })]);
  });

  it('passes the server refusals through: not zoned, not a zone start, a conventional zone, powered off', async () => {
    await cli(['disk', 'create', 'plain', '--size', '8', '--power']);
    const notsupp = await cli(['zone', 'open', 'plain', '--sector', '0']);
    expect(notsupp.code).toBe(1);
    expect(notsupp.err).toBe(
      'rnullctl zone open: ZONE_OPEN plain sector 0 completed with STATUS_NOTSUPP: OP_ZONE_OPEN needs a zoned disk (zoned=1)\n',
    );
    const report = await cli(['zone', 'report', 'plain']);
    expect(report.err).toBe('rnullctl zone report: BlockDevice.ReportZones failed: FAILED_PRECONDITION (9): disk "plain" is not zoned\n');

    const middle = await cli(['zone', 'reset', 'z0', '--sector', String(ZONE + 8)]);
    expect(middle.err).toMatch(/^rnullctl zone reset: ZONE_RESET z0 sector 2056 completed with STATUS_IOERR: /);
    const conventional = await cli(['zone', 'offline', 'z0', '--sector', '0']);
    expect(conventional.err).toMatch(/^rnullctl zone offline: GenDisk\.SetZoneCondition failed: INVALID_ARGUMENT \(3\): /);

    await cli(['disk', 'power', 'z0', 'off']);
    const off = await cli(['zone', 'readonly', 'z0', '--sector', String(ZONE)]);
    expect(off.err).toMatch(/GenDisk\.SetZoneCondition failed: FAILED_PRECONDITION \(9\): disk "z0" is powered off/);
  });

  it('checks its own arguments before any call', async () => {
    const missing = await cli(['zone', 'open', 'z0']);
    expect(missing.err).toBe("rnullctl zone open: missing --sector (see 'rnullctl zone open --help')\n");
    const count = await cli(['zone', 'reset', 'z0', '--sector', '2048', '--count', '0']);
    expect(count.err).toMatch(/--count must be in 1\.\.4294967295, got 0/);
    expect(fake.ios).toBe(0);
  });

  it('lists the zone commands in the help', async () => {
    const r = await runCli(['zone', '--help']);
    expect(r.code).toBe(0);
    for (const word of ['report', 'open', 'close', 'finish', 'reset', 'reset-all', 'readonly', 'offline']) {
      expect(r.out).toMatch(new RegExp(`^  zone ${word} NAME`, 'm'));
    }
  });
});
