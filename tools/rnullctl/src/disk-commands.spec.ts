import { ATTRIBUTE_TABLE, attributeTableMarkdown } from '#rnull';
import { FAKE_FEATURES, FakeRnullServer } from './testing/fake-rnull-server';
import { runCli } from './testing/captured-io';

describe('rnullctl disk (against the fake server)', () => {
  let fake: FakeRnullServer;
  const cli = (...argv: string[]) => runCli([...argv, '--address', fake.address]);

  beforeEach(async () => {
    fake = await FakeRnullServer.start();
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('creates a disk with null_blk attribute names, dashed or not, and shows them', async () => {
    const r = await cli(
      'disk',
      'create',
      'rnullb0',
      '--size',
      '16',
      '--blocksize',
      '512',
      '--hw-queue-depth',
      '128',
      '--submit_queues',
      '2',
      '--irqmode',
      '2',
      '--completion_nsec',
      '50000',
      '--memory_backed',
      '0',
      '--discard',
      '1',
      '--recycle',
      'inline',
      '--timeout_ms',
      '5000',
      '--power',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^created disk rnullb0\n/);

    const d = fake.disks.get('rnullb0')!.disk;
    expect(d.power).toBe(true);
    expect(d.attributes).toMatchObject({
      size: 16n,
      blocksize: 512,
      hwQueueDepth: 128,
      submitQueues: 2,
      irqmode: 2,
      completionNsec: 50000n,
      memoryBacked: false,
      discard: true,
      recycle: 'inline',
      timeoutMs: 5000,
    });

    const show = await cli('disk', 'show', 'rnullb0');
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/^hw_queue_depth\s+128$/m);
    expect(show.out).toMatch(/^memory_backed\s+0$/m);
    expect(show.out).toMatch(/^capacity_sectors\s+32768 \(16 MiB\)$/m);
    expect(show.out).toMatch(/^power\s+1 \(on\)$/m);
    expect(show.out).toMatch(/^recycle\s+inline$/m);
  });

  it('lists disks as a table and as JSON', async () => {
    await cli('disk', 'create', 'a0', '--size', '8');
    await cli('disk', 'create', 'b1', '--size', '32', '--blocksize', '4096', '--power');

    const table = await cli('disk', 'list');
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['NAME', 'POWER', 'SIZE(MiB)', 'BLOCKSIZE', 'QUEUES', 'DEPTH', 'IRQMODE', 'MEMORY_BACKED']);
    expect(lines[1].split(/\s+/)).toEqual(['a0', 'off', '8', '4096', '1', '64', '0', '1']);
    expect(lines[2].split(/\s+/)).toEqual(['b1', 'on', '32', '4096', '1', '64', '0', '1']);

    const json = await cli('disk', 'list', '--json');
    const disks = JSON.parse(json.out);
    expect(disks).toHaveLength(2);
    expect(disks[1]).toMatchObject({ name: 'b1', power: true, capacity_sectors: 65536, attributes: { size: 32, hw_queue_depth: 64 } });
  });

  it('says so when there are no disks', async () => {
    const r = await cli('disk', 'list');
    expect(r.code).toBe(0);
    expect(r.out).toBe('no disks\n');
  });

  it('configures a powered-off disk and reports EBUSY from the server while powered', async () => {
    await cli('disk', 'create', 'd0');
    const ok = await cli('disk', 'configure', 'd0', '--hw_queue_depth', '256', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).attributes.hw_queue_depth).toBe(256);

    await cli('disk', 'power', 'd0', 'on');
    const busy = await cli('disk', 'configure', 'd0', '--blocksize', '512');
    expect(busy.code).toBe(1);
    expect(busy.err).toMatch(/GenDisk\.ConfigureDisk failed: FAILED_PRECONDITION \(9\): .*blocksize cannot change \(EBUSY\)/);

    const queues = await cli('disk', 'configure', 'd0', '--submit-queues', '4');
    expect(queues.code).toBe(0);
    expect(fake.disks.get('d0')!.disk.attributes!.submitQueues).toBe(4);
  });

  it('requires at least one attribute to configure', async () => {
    await cli('disk', 'create', 'd0');
    const r = await cli('disk', 'configure', 'd0');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nothing to configure/);
  });

  it('powers a disk on and off', async () => {
    await cli('disk', 'create', 'd0');
    const on = await cli('disk', 'power', 'd0', 'on');
    expect(on.out).toMatch(/^disk d0 powered on\n/);
    expect(fake.disks.get('d0')!.disk.power).toBe(true);
    const off = await cli('disk', 'power', 'd0', 'off');
    expect(off.code).toBe(0);
    expect(fake.disks.get('d0')!.disk.power).toBe(false);
    const bad = await cli('disk', 'power', 'd0', 'maybe');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/power state must be on or off, got 'maybe'/);
  });

  it('deletes a disk; a second delete names NOT_FOUND and the server message', async () => {
    await cli('disk', 'create', 'd0');
    const del = await cli('disk', 'delete', 'd0');
    expect(del.code).toBe(0);
    expect(del.out).toBe('deleted disk d0\n');
    expect(fake.disks.has('d0')).toBe(false);

    const again = await cli('disk', 'delete', 'd0');
    expect(again.code).toBe(1);
    expect(again.err).toBe("rnullctl disk delete: GenDisk.DeleteDisk failed: NOT_FOUND (5): disk 'd0' not found\n");
  });

  it('passes server-side validation errors through with their status', async () => {
    const r = await cli('disk', 'create', 'd0', '--blocksize', '1000');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/INVALID_ARGUMENT \(3\): blocksize: 1000 is not a power of two/);
    const dup = await cli('disk', 'create', 'd1');
    expect(dup.code).toBe(0);
    expect((await cli('disk', 'create', 'd1')).err).toMatch(/ALREADY_EXISTS \(6\)/);
  });

  it('rejects malformed attribute values before calling the server', async () => {
    const irq = await cli('disk', 'create', 'd0', '--irqmode', '3');
    expect(irq.code).toBe(1);
    expect(irq.err).toMatch(/--irqmode \(0 none, 1 softirq, 2 timer\) must be in 0..2, got 3/);
    const flag = await cli('disk', 'create', 'd0', '--fua', 'yes-please');
    expect(flag.err).toMatch(/--fua must be 0 or 1/);
    const recycle = await cli('disk', 'create', 'd0', '--recycle', 'never');
    expect(recycle.err).toMatch(/--recycle must be on-drop or inline/);
    expect(fake.disks.size).toBe(0);
  });

  it('sets and clears bad sector ranges on a powered disk and lists them as the kernel shows them', async () => {
    await cli('disk', 'create', 'd0', '--power');
    const set = await cli('disk', 'badblocks', 'd0', '+100-107', '+0x10-0x17');
    expect(set.err).toBe('');
    expect(set.out).toBe('16 8\n100 8\n');
    // "-START-END" is a value, not an option.
    const cleared = await cli('disk', 'badblocks', 'd0', '-100-103');
    expect(cleared.out).toBe('16 8\n104 4\n');
    expect((await cli('disk', 'badblocks', 'd0')).out).toBe('16 8\n104 4\n');
    const show = await cli('disk', 'show', 'd0');
    expect(show.out).toMatch(/^badblocks\s+16 8, 104 4$/m);
    expect(show.out).toMatch(/^badblocks_once\s+0$/m);
    const json = await cli('disk', 'show', 'd0', '--json');
    expect(JSON.parse(json.out).attributes.badblocks).toBe('16 8\n104 4\n');
  });

  it('passes a malformed bad-block range to the server, whose error names the attribute', async () => {
    await cli('disk', 'create', 'd0', '--power');
    const r = await cli('disk', 'badblocks', 'd0', '+9-3');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/INVALID_ARGUMENT.*badblocks: start 9 is after end 3/);
  });

  it('accepts irqmode names and lists features', async () => {
    expect((await cli('disk', 'create', 'd0', '--irqmode', 'timer')).code).toBe(0);
    expect(fake.disks.get('d0')!.disk.attributes!.irqmode).toBe(2);
    const f = await cli('disk', 'features');
    expect(f.out.trimEnd().split('\n')).toEqual(FAKE_FEATURES);
    expect(JSON.parse((await cli('disk', 'features', '--json')).out)).toEqual(FAKE_FEATURES);
  });

  it('describes every attribute from the table, as text, Markdown or JSON, without a server', async () => {
    const text = await runCli(['disk', 'attributes', '--address', '127.0.0.1:1']);
    expect(text.code).toBe(0);
    const lines = text.out.trimEnd().split('\n');
    expect(lines).toHaveLength(ATTRIBUTE_TABLE.length + 1);
    expect(lines.find((l) => l.startsWith('max_sectors '))).toMatch(/^max_sectors\s+8\.\.65536\s+255\s+no\s+queue\s+largest request/);
    expect(lines.find((l) => l.startsWith('submit_queues '))).toMatch(/\s1\s+yes\s+tag space\s/);
    expect((await cli('disk', 'attributes', '--markdown')).out).toBe(attributeTableMarkdown() + '\n');
    const json = JSON.parse((await cli('disk', 'attributes', '--json')).out) as { name: string; default: unknown; live: boolean }[];
    expect(json.map((a) => a.name)).toEqual(ATTRIBUTE_TABLE.map((a) => a.name));
    expect(json.find((a) => a.name === 'badblocks')).toMatchObject({ default: '', live: true });
  });
});
