// null_blk's configfs attribute names ↔ blk.v1.DiskAttributes fields: the one table that
// `disk create`, `disk configure`, `disk show` and `--json` read.
//
// Contract: the CLI checks syntax only (integer, 0|1, irqmode 0..2, recycle name); every
// semantic rule (block size a power of two, EBUSY while powered, …) is the server's, so
// its message reaches the user unchanged.
import { DiskAttributes } from '#proto/grpc/blk/v1/gen_disk';
import { OptionSpecs, ParsedArgs, parseBigInt, parseBoolean, parseInteger, UsageError } from './arg-parser';

type AttributeKind = 'u64' | 'u32' | 'bool' | 'irqmode' | 'recycle' | 'badblocks' | 'fault';

export interface AttributeDef {
  /** null_blk's configfs name, also the CLI option name. */
  readonly name: string;
  readonly field: keyof DiskAttributes;
  readonly kind: AttributeKind;
  readonly help: string;
}

/** Every attribute of DiskAttributes, in proto field order. */
export const DISK_ATTRIBUTES: readonly AttributeDef[] = [
  { name: 'size', field: 'size', kind: 'u64', help: 'capacity in MiB (default 4096)' },
  { name: 'blocksize', field: 'blocksize', kind: 'u32', help: 'logical block size: 512, 1024, 2048 or 4096 (default 4096)' },
  { name: 'submit_queues', field: 'submitQueues', kind: 'u32', help: 'hardware queues (default 1)' },
  { name: 'hw_queue_depth', field: 'hwQueueDepth', kind: 'u32', help: 'tags per hardware queue (default 64)' },
  { name: 'irqmode', field: 'irqmode', kind: 'irqmode', help: 'completion: 0 none, 1 softirq, 2 timer (default 0)' },
  { name: 'completion_nsec', field: 'completionNsec', kind: 'u64', help: 'timer completion delay in ns (default 1000000)' },
  { name: 'memory_backed', field: 'memoryBacked', kind: 'bool', help: 'keep data in a page store (default 1)' },
  { name: 'discard', field: 'discard', kind: 'bool', help: 'support DISCARD (default 0)' },
  { name: 'fua', field: 'fua', kind: 'bool', help: 'support FUA (default 1)' },
  {
    name: 'shared_tag_bitmap',
    field: 'sharedTagBitmap',
    kind: 'bool',
    help: 'one tag bitmap for all hardware queues of the disk (default 0)',
  },
  { name: 'rotational', field: 'rotational', kind: 'bool', help: 'report a rotational disk (default 0)' },
  { name: 'poll_queues', field: 'pollQueues', kind: 'u32', help: 'poll queues (default 0; may change while powered)' },
  { name: 'timeout_ms', field: 'timeoutMs', kind: 'u32', help: 'request timeout in ms (default 30000)' },
  { name: 'recycle', field: 'recycle', kind: 'recycle', help: 'tag recycling: on-drop (default) or inline' },
  {
    name: 'mbps',
    field: 'mbps',
    kind: 'u32',
    help: 'bandwidth cap in MiB/s, 0..40960, 0 for none (default 0); a byte budget refilled every 20 ms',
  },
  { name: 'max_sectors', field: 'maxSectors', kind: 'u32', help: 'largest request in 512-byte sectors (default 255)' },
  {
    name: 'badblocks',
    field: 'badblocks',
    kind: 'badblocks',
    help: 'one write of the badblocks file: +START-END marks inclusive sectors bad, -START-END clears them (default none; may change while powered)',
  },
  { name: 'badblocks_once', field: 'badblocksOnce', kind: 'bool', help: 'a bad range clears after its first hit (default 0)' },
  {
    name: 'badblocks_partial_io',
    field: 'badblocksPartialIo',
    kind: 'bool',
    help: 'an IO that hits a bad range transfers the blocks before it (default 0)',
  },
  {
    name: 'timeout',
    field: 'timeout',
    kind: 'fault',
    help: 'fault injection: the chosen requests never complete and end TIMEOUT after timeout_ms (default none)',
  },
  { name: 'requeue', field: 'requeue', kind: 'fault', help: 'fault injection: the driver requeues the chosen requests (default none)' },
  {
    name: 'init_hctx',
    field: 'initHctx',
    kind: 'fault',
    help: 'fault injection: an hctx fails to initialise, failing power on or a submit_queues increase (default none)',
  },
];

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
    case 'badblocks':
    case 'fault':
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
