import { HelpRequested, parse } from './mbps-fio';

describe('bench:mbps arguments', () => {
  it('defaults to the committed run: mbps 20, local, write and read at 4k and 128k, qd 32, 10 s', () => {
    expect(parse([])).toEqual({
      mbps: 20,
      placement: 'local',
      rw: ['write', 'read'],
      bs: [4096, 131072],
      qd: 32,
      seconds: 10,
      out: 'docs/bench/mbps',
    });
    expect(parse(['--mbps', '4', '--placement', 'remote', '--rw', 'randwrite', '--bs', '64k'])).toMatchObject({
      mbps: 4,
      placement: 'remote',
      rw: ['randwrite'],
      bs: [65536],
    });
  });

  it('answers --help with the usage and refuses what it does not know, naming the option', () => {
    expect(() => parse(['--help'])).toThrow(HelpRequested);
    expect(() => parse(['-h'])).toThrow(HelpRequested);
    expect(() => parse(['--placement', 'moon'])).toThrow(/--placement: want local or remote/);
    expect(() => parse(['--rw', 'write,scribble'])).toThrow(/--rw: unknown scribble/);
    expect(() => parse(['--mbps'])).toThrow(/--mbps: needs a value; see --help/);
    expect(() => parse(['--bogus', '1'])).toThrow(/unknown option --bogus; see --help/);
    expect(() => parse(['--mbps', '0'])).toThrow(/--mbps/);
  });
});
