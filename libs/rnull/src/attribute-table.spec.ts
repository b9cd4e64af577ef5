// The attribute table against everything that must agree with it: the proto's
// DiskAttributes message (names, order, wire types), the README's table, and validation.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ATTRIBUTE_TABLE, attributeSpec, attributeTableMarkdown, type AttributeWire } from './attribute-table';
import { ATTRIBUTE_NAMES, AttributeError, DEFAULT_ATTRIBUTES, features, LIVE_ATTRIBUTES, validateAttribute } from './disk-attributes';

const ROOT = path.resolve(__dirname, '../../..');

/** The fields of `message DiskAttributes` in proto/blk/v1/gen_disk.proto, in field-number order. */
function protoFields(): { name: string; wire: string; number: number }[] {
  const proto = fs.readFileSync(path.join(ROOT, 'proto/blk/v1/gen_disk.proto'), 'utf8');
  const body = /message DiskAttributes \{([\s\S]*?)\n\}/.exec(proto)?.[1];
  if (!body) throw new Error('no message DiskAttributes in gen_disk.proto');
  return [...body.matchAll(/^\s*(?:optional\s+)?(\w+)\s+(\w+)\s*=\s*(\d+);/gm)]
    .map((m) => ({ wire: m[1], name: m[2], number: Number(m[3]) }))
    .sort((a, b) => a.number - b.number);
}

const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe('ATTRIBUTE_TABLE', () => {
  it("has one row per field of the proto's DiskAttributes, in field order, with the field's name and wire type", () => {
    const fields = protoFields();
    expect(fields.length).toBeGreaterThan(20);
    expect(ATTRIBUTE_TABLE.map((a) => a.name)).toEqual(fields.map((f) => f.name));
    expect(ATTRIBUTE_TABLE.map((a) => a.wire)).toEqual(fields.map((f) => f.wire as AttributeWire));
    // The TypeScript field ts-proto makes of each name is the key of DiskAttributes.
    expect(ATTRIBUTE_TABLE.map((a) => a.key)).toEqual(fields.map((f) => camel(f.name)));
  });

  it('gives every derived map exactly its rows', () => {
    expect(Object.keys(DEFAULT_ATTRIBUTES)).toEqual(ATTRIBUTE_TABLE.map((a) => a.key));
    expect(Object.values(ATTRIBUTE_NAMES)).toEqual(ATTRIBUTE_TABLE.map((a) => a.name));
    expect([...LIVE_ATTRIBUTES].sort()).toEqual(['badblocks', 'pollQueues', 'submitQueues']);
    expect(features()).toEqual([...ATTRIBUTE_TABLE.filter((a) => a.behaviour).map((a) => a.name), 'power', 'index']);
    expect(new Set(ATTRIBUTE_TABLE.map((a) => a.name)).size).toBe(ATTRIBUTE_TABLE.length);
  });

  it.each(ATTRIBUTE_TABLE.map((a) => [a.name, a] as const))('%s: its default passes validation and its range bounds it', (_name, a) => {
    expect(() => validateAttribute(a.key, a.default)).not.toThrow();
    if (a.type === 'integer' || a.type === 'power-of-two') {
      const [min, max] = a.range!;
      expect(() => validateAttribute(a.key, min as never)).not.toThrow();
      expect(() => validateAttribute(a.key, max as never)).not.toThrow();
      for (const bad of [min - 1, max * 2 + 1]) {
        const e = (() => {
          try {
            validateAttribute(a.key, bad as never);
          } catch (err) {
            return err;
          }
          return undefined;
        })();
        expect(e).toBeInstanceOf(AttributeError);
        expect((e as AttributeError).field).toBe(a.name);
      }
      // The wire type holds the whole range.
      expect(['uint32', 'uint64']).toContain(a.wire);
      if (max > 0xffff_ffff) expect(a.wire).toBe('uint64');
    } else {
      expect(a.range).toBeUndefined();
    }
    if (a.type === 'bool') expect(a.wire).toBe('bool');
  });

  it('attributeSpec finds a row by key and refuses an unknown one', () => {
    expect(attributeSpec('maxSectors').name).toBe('max_sectors');
    expect(() => attributeSpec('bogus' as never)).toThrow(/no attribute bogus/);
  });
});

describe("the README's attribute table", () => {
  it('is attributeTableMarkdown() between its markers (regenerate: npx rnullctl disk attributes --markdown)', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- attribute-table:start[^>]*-->\n([\s\S]*?)\n<!-- attribute-table:end -->/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toBe(attributeTableMarkdown());
  });
});
