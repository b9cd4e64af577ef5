// The command line of `npm run bench`: lists, sizes, the --quick preset and the matrix.
import {
  BenchUsageError,
  configLabel,
  expandMatrix,
  fillsBefore,
  FULL_DEFAULTS,
  parseBenchArgs,
  parseSize,
  peerKey,
  USAGE,
} from './bench-matrix';

describe('parseBenchArgs', () => {
  it('gives the full matrix by default', () => {
    const o = parseBenchArgs([]);
    expect(o).toEqual({ ...FULL_DEFAULTS, quick: false, help: false });
    expect(expandMatrix(o)).toHaveLength(5 * 3 * 4 * 3 * 2);
  });

  it('takes the runs per mode of a recycle pair', () => {
    expect(parseBenchArgs(['--recycle-slices', '2']).recycleSlices).toBe(2);
    expect(FULL_DEFAULTS.recycleSlices).toBe(4);
  });

  it('narrows every dimension from comma lists, with and without =', () => {
    const o = parseBenchArgs([
      '--rw',
      'randread,write',
      '--bs=4k,1M',
      '--qd',
      '1,32',
      '--irqmode',
      '1',
      '--memory-backed',
      '0',
      '--paths',
      'a,c',
    ]);
    expect(o.rw).toEqual(['randread', 'write']);
    expect(o.bs).toEqual([4096, 1048576]);
    expect(o.qd).toEqual([1, 32]);
    expect(o.irqmode).toEqual([1]);
    expect(o.memoryBacked).toEqual([false]);
    expect(o.paths).toEqual(['a', 'c']);
    expect(expandMatrix(o).map(configLabel)).toEqual([
      'randread 4k qd1 irq1 mb0',
      'randread 4k qd32 irq1 mb0',
      'randread 1M qd1 irq1 mb0',
      'randread 1M qd32 irq1 mb0',
      'write 4k qd1 irq1 mb0',
      'write 4k qd32 irq1 mb0',
      'write 1M qd1 irq1 mb0',
      'write 1M qd32 irq1 mb0',
    ]);
  });

  it('--quick sets the preset, and options on the same line win whatever their order', () => {
    const q = parseBenchArgs(['--quick']);
    expect(q.quick).toBe(true);
    expect(expandMatrix(q).map(configLabel)).toEqual([
      'randread 4k qd1 irq1 mb1',
      'randread 4k qd32 irq1 mb1',
      'randwrite 4k qd1 irq1 mb1',
      'randwrite 4k qd32 irq1 mb1',
    ]);
    expect(q.memoryIos).toBeLessThan(1_000_000);
    expect(parseBenchArgs(['--qd', '8', '--quick']).qd).toEqual([8]);
    expect(parseBenchArgs(['--quick', '--seconds', '1.5']).seconds).toBe(1.5);
  });

  it('drops duplicate values', () => {
    expect(parseBenchArgs(['--qd', '1,1,8']).qd).toEqual([1, 8]);
  });

  it.each([
    [['--rw', 'randomread'], /--rw: unknown value "randomread" \(accepted: randread, randwrite, read, write, randrw\)/],
    [['--bs', '1000'], /multiple of 512/],
    [['--bs', '4x'], /bad block size "4x"/],
    [['--qd', '0'], /--qd: "0" is not an integer in 1\.\.4096/],
    [['--irqmode', '3'], /--irqmode/],
    [['--memory-backed', 'yes'], /accepted: 0, 1/],
    [['--paths', 'e'], /accepted: a, b, c, d/],
    [['--samples', '1'], /--samples/],
    [['--recycle-slices', '0'], /--recycle-slices: "0" is not an integer in 1\.\.64/],
    [['--recycle-slices', '1.5'], /--recycle-slices/],
    [['--recycle-slices', '3'], /--recycle-slices: 3 runs per mode cannot alternate ABBA/],
    [['--sample-seconds', '0.1', '--recycle-slices', '4'], /slices of 0\.025 s, shorter than 0\.05 s/],
    [['--seconds'], /--seconds needs a value/],
    [['--qd', '--quick'], /--qd needs a value/],
    [['--frobnicate'], /unknown option "--frobnicate"/],
  ])('rejects %j with a message that names the problem', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});

describe('sizes and keys', () => {
  it('parses k and M suffixes', () => {
    expect([parseSize('512'), parseSize('4k'), parseSize('64K'), parseSize('1M')]).toEqual([512, 4096, 65536, 1048576]);
  });

  it('the nbdkit peer key ignores irqmode only', () => {
    const c = { rw: 'randread' as const, bs: 4096, qd: 32, irqmode: 0, memoryBacked: true };
    expect(peerKey(c)).toBe(peerKey({ ...c, irqmode: 2 }));
    expect(peerKey(c)).not.toBe(peerKey({ ...c, memoryBacked: false }));
    expect(peerKey(c)).not.toBe(peerKey({ ...c, qd: 1 }));
  });

  it('--redis-thp turns huge pages of the Redis the bench starts on (default) or off, and refuses anything else', () => {
    expect(parseBenchArgs([]).redisHugePages).toBe('on');
    expect(parseBenchArgs(['--redis-thp', 'off']).redisHugePages).toBe('off');
    expect(parseBenchArgs(['--redis-thp=on']).redisHugePages).toBe('on');
    expect(() => parseBenchArgs(['--redis-thp', 'maybe'])).toThrow(/--redis-thp: unknown value "maybe" \(accepted: on, off\)/);
  });

  it('--redis-purge purges Redis after each deleted disk by default, keeps its memory with off, and refuses anything else', () => {
    expect(parseBenchArgs([]).redisPurge).toBe('on');
    expect(parseBenchArgs(['--redis-purge', 'off']).redisPurge).toBe('off');
    expect(parseBenchArgs(['--redis-purge=on']).redisPurge).toBe('on');
    expect(() => parseBenchArgs(['--redis-purge', 'sometimes'])).toThrow(/--redis-purge: unknown value "sometimes" \(accepted: on, off\)/);
    expect(USAGE).toContain('--redis-purge on|off');
  });

  it('--placement picks where the driver runs, local by default, and refuses anything else', () => {
    expect(parseBenchArgs([]).placement).toBe('local');
    expect(parseBenchArgs(['--placement', 'remote']).placement).toBe('remote');
    expect(() => parseBenchArgs(['--placement', 'moon'])).toThrow(/--placement: unknown value "moon" \(accepted: local, remote\)/);
  });

  it('--precondition fill fills targets only before memory-backed configurations that write; none by default', () => {
    expect(parseBenchArgs([]).precondition).toBe('none');
    expect(parseBenchArgs(['--precondition', 'fill']).precondition).toBe('fill');
    expect(() => parseBenchArgs(['--precondition', 'trim'])).toThrow(/--precondition: unknown value "trim" \(accepted: none, fill\)/);
    const c = { rw: 'randwrite' as const, bs: 4096, qd: 32, irqmode: 1, memoryBacked: true };
    expect(fillsBefore(c, 'fill')).toBe(true);
    expect(fillsBefore({ ...c, rw: 'randrw' }, 'fill')).toBe(true);
    expect(fillsBefore({ ...c, rw: 'randread' }, 'fill')).toBe(false);
    expect(fillsBefore({ ...c, memoryBacked: false }, 'fill')).toBe(false);
    expect(fillsBefore(c, 'none')).toBe(false);
  });

  it('--nbd-mode picks where path b is served, dispatch by default, and refuses anything else', () => {
    expect(parseBenchArgs([]).nbdMode).toBe('dispatch');
    expect(parseBenchArgs(['--nbd-mode', 'service']).nbdMode).toBe('service');
    expect(() => parseBenchArgs(['--nbd-mode', 'sidecar'])).toThrow(/--nbd-mode: unknown value "sidecar" \(accepted: dispatch, service\)/);
  });

  it('--dispatch, --rnull, --completion set processes per service (1 by default) and refuse 0 or too many', () => {
    const d = parseBenchArgs([]);
    expect([d.dispatch, d.rnull, d.completion]).toEqual([1, 1, 1]);
    const o = parseBenchArgs(['--dispatch', '2', '--rnull=3', '--completion', '4']);
    expect([o.dispatch, o.rnull, o.completion]).toEqual([2, 3, 4]);
    expect(() => parseBenchArgs(['--dispatch', '0'])).toThrow(/--dispatch: "0" is not an integer in 1\.\.16/);
    expect(() => parseBenchArgs(['--rnull', '17'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--completion', 'two'])).toThrow(BenchUsageError);
  });

  it('--redis-cluster alone means a local one; =NODES takes seed nodes, checked; it excludes --redis-url', () => {
    expect(parseBenchArgs([]).redisCluster).toBeUndefined();
    // Alone, it takes no value: the next argument stays an option of its own.
    const o = parseBenchArgs(['--redis-cluster', '--dispatch', '2']);
    expect(o.redisCluster).toBe('local');
    expect(o.dispatch).toBe(2);
    expect(parseBenchArgs(['--redis-cluster=10.0.0.1:7000,10.0.0.2:7000']).redisCluster).toBe('10.0.0.1:7000,10.0.0.2:7000');
    expect(() => parseBenchArgs(['--redis-cluster=10.0.0.1'])).toThrow(/--redis-cluster: seed nodes must be host:port.*got "10\.0\.0\.1"/);
    expect(() => parseBenchArgs(['--redis-cluster=h:99999'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--redis-cluster', '--redis-url', 'redis://x:1'])).toThrow(/exclude each other/);
  });
});
