// The CLI's attribute table against the server's: every attribute, and every default its
// help text states, is the one libs/rnull owns (the CLI keeps no defaults of its own).
import { ATTRIBUTE_NAMES, DEFAULT_ATTRIBUTES, type DiskAttributes } from '#rnull';
import { DISK_ATTRIBUTES } from './disk-attributes';

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
