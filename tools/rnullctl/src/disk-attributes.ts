// null_blk's configfs attribute names ↔ blk.v1.DiskAttributes fields, read from the one
// attribute table (libs/rnull `ATTRIBUTE_TABLE`): `disk create`, `disk configure`,
// `disk show` and `--json` take their options, help and order from it.
//
// Contract: the CLI checks syntax only (integer, 0|1, irqmode 0..2, recycle name); every
// semantic rule (block size a power of two, EBUSY while powered, …) is the server's, so
// its message reaches the user unchanged.
import { DiskAttributes } from '#proto/grpc/blk/v1/gen_disk';
import { ATTRIBUTE_TABLE, type AttributeSpec, defaultText } from '#rnull';
import { OptionSpecs, ParsedArgs, parseBigInt, parseBoolean, parseInteger, UsageError } from './arg-parser';

type AttributeKind = 'u64' | 'u32' | 'bool' | 'irqmode' | 'recycle' | 'badblocks' | 'fault';

export interface AttributeDef {
  /** null_blk's configfs name, also the CLI option name. */
  readonly name: string;
  readonly field: keyof DiskAttributes;
  readonly kind: AttributeKind;
  readonly help: string;
}

/** How the CLI parses a table row's values. */
function kindOf(spec: AttributeSpec): AttributeKind {
  switch (spec.type) {
    case 'integer':
    case 'power-of-two':
      return spec.wire === 'uint64' ? 'u64' : 'u32';
    default:
      return spec.type;
  }
}

/** Every attribute of DiskAttributes, in proto field order (the table's order). */
export const DISK_ATTRIBUTES: readonly AttributeDef[] = ATTRIBUTE_TABLE.map((spec) => ({
  name: spec.name,
  field: spec.key as keyof DiskAttributes,
  kind: kindOf(spec),
  help: `${spec.help} (default ${defaultText(spec)}${spec.live ? '; may change while powered' : ''})`,
}));

const VALUE_NAME: Readonly<Record<AttributeKind, string>> = {
  u64: 'N',
  u32: 'N',
  bool: '0|1',
  irqmode: '0|1|2',
  recycle: 'on-drop|inline',
  badblocks: '+START-END|-START-END',
  fault: 'INTERVAL,PROBABILITY,SPACE,TIMES',
};

const IRQMODE_NAMES: Readonly<Record<string, number>> = { none: 0, softirq: 1, timer: 2 };
export const RECYCLE_MODES: readonly string[] = ['on-drop', 'inline'];

/** The attribute options of `disk create` / `disk configure`. */
export function attributeOptions(): OptionSpecs {
  const specs: Record<string, { kind: 'value'; valueName: string; help: string }> = {};
  for (const a of DISK_ATTRIBUTES) specs[a.name] = { kind: 'value', valueName: VALUE_NAME[a.kind], help: a.help };
  return specs;
}

function parseAttribute(def: AttributeDef, text: string): DiskAttributes[keyof DiskAttributes] {
  const what = `--${def.name}`;
  switch (def.kind) {
    case 'u64':
      return parseBigInt(text, what);
    case 'u32':
      return parseInteger(text, what);
    case 'bool':
      return parseBoolean(text, what);
    case 'irqmode': {
      const named = IRQMODE_NAMES[text.trim().toLowerCase()];
      return named ?? parseInteger(text, `${what} (0 none, 1 softirq, 2 timer)`, 0, 2);
    }
    case 'recycle':
      if (!RECYCLE_MODES.includes(text)) throw new UsageError(`${what} must be on-drop or inline, got '${text}'`);
      return text;
    case 'fault':
      // `none`, as `disk show` prints an unset one, clears it; anything else the server parses.
      return text.trim().toLowerCase() === 'none' ? '' : text;
    case 'badblocks':
      return text; // The server parses it (its error names the attribute).
  }
}

/** The attributes given on the command line; unset ones stay undefined (server keeps/defaults them). */
export function attributesFromArgs(args: ParsedArgs): { attributes: DiskAttributes; count: number } {
  const attributes: DiskAttributes = {};
  let count = 0;
  for (const def of DISK_ATTRIBUTES) {
    const text = args.values.get(def.name);
    if (text === undefined) continue;
    (attributes as Record<string, unknown>)[def.field] = parseAttribute(def, text);
    count++;
  }
  return { attributes, count };
}

/** null_blk's text form of one attribute: integers, 0|1 for booleans, '-' when unset. */
export function attributeText(attrs: DiskAttributes | undefined, def: AttributeDef): string {
  const v = attrs?.[def.field];
  if (v === undefined) return '-';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (def.kind === 'badblocks') return badBlocksText(String(v));
  if (def.kind === 'fault') return v === '' ? 'none' : String(v);
  return String(v);
}

/** The badblocks list ("START LENGTH" lines) on one line: `0 8, 100 4`, or `none`. */
export function badBlocksText(shown: string): string {
  const entries = shown.split('\n').filter((l) => l.trim() !== '');
  return entries.length ? entries.join(', ') : 'none';
}

/** A 64-bit value for JSON: a number when exact, else a decimal string. */
export function jsonInteger(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** Attributes keyed by null_blk name, for --json; unset ones are null. */
export function attributesToJson(attrs: DiskAttributes | undefined): Record<string, number | string | boolean | null> {
  const out: Record<string, number | string | boolean | null> = {};
  for (const def of DISK_ATTRIBUTES) {
    const v = attrs?.[def.field];
    out[def.name] = v === undefined ? null : typeof v === 'bigint' ? jsonInteger(v) : v;
  }
  return out;
}
