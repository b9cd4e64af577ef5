// The CLI's attribute table against the server's: every attribute, and every default its
// help text states, is the one libs/rnull owns (the CLI keeps no defaults of its own).
import { ATTRIBUTE_NAMES, DEFAULT_ATTRIBUTES, type DiskAttributes } from '#rnull';
import { parseArgs } from './arg-parser';
import { attributeOptions, attributesFromArgs, attributeText, DISK_ATTRIBUTES } from './disk-attributes';

describe('DISK_ATTRIBUTES', () => {
  it("has every attribute of libs/rnull, under null_blk's names", () => {
    expect(Object.fromEntries(DISK_ATTRIBUTES.map((a) => [a.field, a.name]))).toEqual(ATTRIBUTE_NAMES);
  });

  it.each(DISK_ATTRIBUTES.map((a) => [a.name, a] as const))('%s: help states the default of libs/rnull', (_name, a) => {
    const want = DEFAULT_ATTRIBUTES[a.field as keyof DiskAttributes];
    const text = typeof want === 'boolean' ? (want ? '1' : '0') : want === '' ? 'none' : String(want);
    const stated = /\(default ([^;)]+)[;)]/.exec(a.help)?.[1] ?? /(\S+) \(default\)/.exec(a.help)?.[1];
    expect(stated).toBe(text);
  });
});

describe('fault injection attributes (timeout, requeue, init_hctx)', () => {
  const def = (name: string) => DISK_ATTRIBUTES.find((a) => a.name === name)!;

  it("show the server's canonical string, or none when unset", () => {
    expect(attributeText({ timeout: '10,100,0,20' }, def('timeout'))).toBe('10,100,0,20');
    expect(attributeText({ requeue: '' }, def('requeue'))).toBe('none');
    expect(attributeText({ initHctx: '1,100,0,1' }, def('init_hctx'))).toBe('1,100,0,1');
  });

  it('take none, as disk show prints it, to clear one; pass anything else to the server', () => {
    const args = parseArgs(['--timeout', 'none', '--requeue', 'NONE', '--init_hctx', '1,100,0,1'], attributeOptions());
    expect(attributesFromArgs(args).attributes).toEqual({
      timeout: '',
      requeue: '',
      initHctx: '1,100,0,1',
    });
  });
});
