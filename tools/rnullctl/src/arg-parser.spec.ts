import { formatOptions, OptionSpecs, parseArgs, parseBigInt, parseBoolean, parseByteCount, parseInteger, UsageError } from './arg-parser';

const SPECS: OptionSpecs = {
  hw_queue_depth: { kind: 'value', valueName: 'N', help: 'tags per queue' },
  file: { kind: 'value', help: 'input' },
  power: { kind: 'flag', help: 'power on' },
  help: { kind: 'flag', help: 'help' },
};

describe('parseArgs', () => {
  it('reads --name value, --name=value, flags and positionals in any order', () => {
    const a = parseArgs(['d0', '--hw_queue_depth', '128', '--power', '--file=x.bin'], SPECS, { min: 1, max: 1 });
    expect(a.positionals).toEqual(['d0']);
    expect(a.values.get('hw_queue_depth')).toBe('128');
    expect(a.values.get('file')).toBe('x.bin');
    expect(a.flags.has('power')).toBe(true);
  });

  it.each(['--hw-queue-depth', '--hw_queue-depth', '--hw_queue_depth'])('accepts %s for the null_blk name hw_queue_depth', (opt) => {
    expect(parseArgs([opt, '7'], SPECS).values.get('hw_queue_depth')).toBe('7');
  });

  it('gives a value option the next token even when it starts with a dash', () => {
    expect(parseArgs(['--file', '-'], SPECS).values.get('file')).toBe('-');
  });

  it('treats a lone - as a positional and stops options at --', () => {
    const a = parseArgs(['-', '--', '--power'], SPECS, { min: 0, max: 2 });
    expect(a.positionals).toEqual(['-', '--power']);
    expect(a.flags.has('power')).toBe(false);
  });

  it('maps -h to --help and skips positional checks when help is asked', () => {
    const a = parseArgs(['-h'], SPECS, { min: 2, max: 2 });
    expect(a.flags.has('help')).toBe(true);
  });

  it('keeps the last value of a repeated option', () => {
    expect(parseArgs(['--file', 'a', '--file', 'b'], SPECS).values.get('file')).toBe('b');
  });

  it.each([
    [['--nope'], /unknown option --nope/],
    [['-x'], /unknown option -x/],
    [['--file'], /--file needs a value/],
    [['--power=1'], /--power takes no value/],
    [['a', 'b'], /unexpected argument 'b'/],
    [[], /at least 1 argument/],
  ])('rejects %j with a UsageError naming the problem', (argv, message) => {
    expect(() => parseArgs(argv, SPECS, { min: 1, max: 1 })).toThrow(UsageError);
    expect(() => parseArgs(argv, SPECS, { min: 1, max: 1 })).toThrow(message);
  });
});

describe('value parsers', () => {
  it('parses byte counts with binary suffixes', () => {
    expect(parseByteCount('4096', 'bs')).toBe(4096n);
    expect(parseByteCount('4k', 'bs')).toBe(4096n);
    expect(parseByteCount('1MiB', 'bs')).toBe(1048576n);
    expect(parseByteCount('2G', 'bs')).toBe(2n << 30n);
    expect(() => parseByteCount('4x', '--bs')).toThrow(/--bs must be a non-negative integer/);
    expect(() => parseByteCount('-1', '--bs')).toThrow(UsageError);
  });

  it('parses integers within bounds, including 64-bit ones', () => {
    expect(parseInteger('32', '--qd', 1, 64)).toBe(32);
    expect(parseBigInt('18446744073709551615', '--sector')).toBe(2n ** 64n - 1n);
    expect(() => parseInteger('0', '--qd', 1, 64)).toThrow(/--qd must be in 1..64, got 0/);
    expect(() => parseInteger('1.5', '--qd')).toThrow(/--qd must be an integer/);
    expect(() => parseBigInt('18446744073709551616', '--sector')).toThrow(/--sector must be in/);
  });

  it('parses 0|1 booleans and their spelled-out forms', () => {
    expect(parseBoolean('1', '--fua')).toBe(true);
    expect(parseBoolean('off', '--fua')).toBe(false);
    expect(() => parseBoolean('2', '--fua')).toThrow(/--fua must be 0 or 1, got '2'/);
  });
});

describe('formatOptions', () => {
  it('aligns one line per option with its value placeholder', () => {
    const lines = formatOptions(SPECS).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ {2}--hw_queue_depth N {2,}tags per queue$/);
    expect(lines[2]).toMatch(/^ {2}--power {2,}power on$/);
    const helpColumns = lines.map((l, i) => l.lastIndexOf(Object.values(SPECS)[i].help));
    expect(new Set(helpColumns).size).toBe(1);
  });
});
