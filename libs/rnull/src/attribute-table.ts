// The one attribute table (DESIGN §5): every disk attribute with null_blk's configfs name,
// its type, default, range, whether it may change while the disk is powered, what a change
// reshapes, whether it has behaviour, and its help. Validation (`disk-attributes.ts`),
// rnullctl's options and help, `features`, the README's table (`attributeTableMarkdown`)
// and the check against the proto's fields all read it; nothing else lists attributes.
import { BLK_SAFE_MAX_SECTORS, DEFAULT_RQ_TIMEOUT_MS } from '#blk-mq';
import { MAX_MBPS } from './bandwidth-budget';
import type { DiskAttributes } from './disk-attributes';
import { IrqMode } from './irq-mode';

/**
 * How a value is written and checked: `integer` (whole number in `range`), `bool`,
 * `power-of-two` (in `range`), `irqmode` (0, 1, 2), `recycle` (on-drop, inline),
 * `badblocks` (a configfs command, +START-END / -START-END), `fault`
 * (<interval>,<probability>,<space>,<times>).
 */
export type AttributeType = 'integer' | 'bool' | 'power-of-two' | 'irqmode' | 'recycle' | 'badblocks' | 'fault';

/** The proto field's wire type (`proto/blk/v1/gen_disk.proto`, message DiskAttributes). */
export type AttributeWire = 'uint64' | 'uint32' | 'bool' | 'string';

/**
 * What a change of the attribute does to a disk that has a queue:
 *   - `tag space`: re-lays the disk's tags in Redis and opens a new queue (gendisk's
 *     reshape, dispatch's reshape predecessor);
 *   - `queue`: dispatch opens a new queue (the engine is built from it); no Redis layout;
 *   - `nothing`: read where it is used, as it is used next (the driver's next batch through
 *     `RnullDriver.setAttributes`, gendisk's next power on).
 */
export type AttributeReshape = 'tag space' | 'queue' | 'nothing';

export interface AttributeSpec<K extends keyof DiskAttributes = keyof DiskAttributes> {
  /** The field of `DiskAttributes`, and of the proto's DiskAttributes in TypeScript. */
  readonly key: K;
  /** null_blk's configfs name: what users type, errors say, and the proto's field name. */
  readonly name: string;
  readonly type: AttributeType;
  readonly wire: AttributeWire;
  readonly default: DiskAttributes[K];
  /** Smallest and largest value, for `integer` and `power-of-two`. */
  readonly range?: readonly [min: number, max: number];
  /** May change while the disk is powered (else EBUSY). */
  readonly live: boolean;
  readonly reshapes: AttributeReshape;
  /** False for an attribute accepted and stored but with no effect yet (not in `features`). */
  readonly behaviour: boolean;
  /** One line for `rnullctl --help` and the README, without the default. */
  readonly help: string;
}

function attribute<K extends keyof DiskAttributes>(key: K, spec: Omit<AttributeSpec<K>, 'key'>): AttributeSpec<K> {
  return Object.freeze({ key, ...spec });
}

/**
 * Every attribute, in proto field order. Defaults follow the seed's rnull where it has the
 * attribute (memory_backed, blocksize, size, irqmode, completion_nsec) and null_blk
 * elsewhere; `timeout_ms` and `max_sectors` take blk-mq's own (`DEFAULT_RQ_TIMEOUT_MS`,
 * `BLK_SAFE_MAX_SECTORS`). Live ones: null_blk's submit_queues and poll_queues have an
 * apply function, `badblocks` is its own configfs store that never checks power.
 */
export const ATTRIBUTE_TABLE: readonly AttributeSpec[] = Object.freeze([
  attribute('size', {
    name: 'size',
    type: 'integer',
    wire: 'uint64',
    default: 4096,
    range: [1, 1 << 22],
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'capacity in MiB (up to 4 TiB)',
  }),
  attribute('blocksize', {
    name: 'blocksize',
    type: 'power-of-two',
    wire: 'uint32',
    default: 4096,
    range: [512, 4096],
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'logical block size in bytes: 512, 1024, 2048 or 4096',
  }),
  attribute('submitQueues', {
    name: 'submit_queues',
    type: 'integer',
    wire: 'uint32',
    default: 1,
    range: [1, 256],
    live: true,
    reshapes: 'tag space',
    behaviour: true,
    help: 'hardware queues (hctxs)',
  }),
  attribute('hwQueueDepth', {
    name: 'hw_queue_depth',
    type: 'integer',
    wire: 'uint32',
    default: 64,
    range: [1, 4096],
    live: false,
    reshapes: 'tag space',
    behaviour: true,
    help: 'tags per hardware queue',
  }),
  attribute('irqmode', {
    name: 'irqmode',
    type: 'irqmode',
    wire: 'uint32',
    default: IrqMode.None,
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'where requests end: 0 none (inline), 1 softirq, 2 timer',
  }),
  attribute('completionNsec', {
    name: 'completion_nsec',
    type: 'integer',
    wire: 'uint64',
    default: 1_000_000,
    range: [0, 60e9],
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'irqmode 2: ns from dispatch to the end',
  }),
  attribute('memoryBacked', {
    name: 'memory_backed',
    type: 'bool',
    wire: 'bool',
    default: true,
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'keep the data in the page store (0: writes are dropped, reads return zeros)',
  }),
  attribute('discard', {
    name: 'discard',
    type: 'bool',
    wire: 'bool',
    default: false,
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'support DISCARD (NBD TRIM)',
  }),
  attribute('fua', {
    name: 'fua',
    type: 'bool',
    wire: 'bool',
    default: true,
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'support FUA (advertised over NBD)',
  }),
  attribute('sharedTagBitmap', {
    name: 'shared_tag_bitmap',
    type: 'bool',
    wire: 'bool',
    default: false,
    live: false,
    reshapes: 'tag space',
    behaviour: true,
    help: 'one tag bitmap for all hardware queues of the disk (BLK_MQ_F_TAG_HCTX_SHARED; was called shared_tags)',
  }),
  attribute('rotational', {
    name: 'rotational',
    type: 'bool',
    wire: 'bool',
    default: false,
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'report spinning media (NBD ROTATIONAL flag)',
  }),
  attribute('pollQueues', {
    name: 'poll_queues',
    type: 'integer',
    wire: 'uint32',
    default: 0,
    range: [0, 256],
    live: true,
    reshapes: 'nothing',
    behaviour: false,
    help: 'poll queues (accepted and stored; no polled IO yet)',
  }),
  attribute('timeoutMs', {
    name: 'timeout_ms',
    type: 'integer',
    wire: 'uint32',
    default: DEFAULT_RQ_TIMEOUT_MS,
    range: [1, 3_600_000],
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: "request timeout in ms (blk-mq's default; C null_blk sets 5000)",
  }),
  attribute('recycle', {
    name: 'recycle',
    type: 'recycle',
    wire: 'string',
    default: 'on-drop',
    live: false,
    reshapes: 'tag space',
    behaviour: true,
    help: 'when a tag is reused: on-drop (last reference dropped, the seed) or inline (at the end)',
  }),
  attribute('mbps', {
    name: 'mbps',
    type: 'integer',
    wire: 'uint32',
    default: 0,
    range: [0, MAX_MBPS],
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'bandwidth cap in MiB/s, 0 for none: a byte budget refilled every 20 ms',
  }),
  attribute('maxSectors', {
    name: 'max_sectors',
    type: 'integer',
    wire: 'uint32',
    default: BLK_SAFE_MAX_SECTORS,
    range: [8, 1 << 16],
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'largest request in 512-byte sectors (rounded down to the block size)',
  }),
  attribute('badblocks', {
    name: 'badblocks',
    type: 'badblocks',
    wire: 'string',
    default: '',
    live: true,
    reshapes: 'nothing',
    behaviour: true,
    help: 'one write of the badblocks file: +START-END marks inclusive sectors bad, -START-END clears them',
  }),
  attribute('badblocksOnce', {
    name: 'badblocks_once',
    type: 'bool',
    wire: 'bool',
    default: false,
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'a bad range clears after its first hit',
  }),
  attribute('badblocksPartialIo', {
    name: 'badblocks_partial_io',
    type: 'bool',
    wire: 'bool',
    default: false,
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'an IO that hits a bad range transfers the whole blocks before it',
  }),
  attribute('timeout', {
    name: 'timeout',
    type: 'fault',
    wire: 'string',
    default: '',
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'fault injection: the chosen requests never complete and end TIMEOUT after timeout_ms',
  }),
  attribute('requeue', {
    name: 'requeue',
    type: 'fault',
    wire: 'string',
    default: '',
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'fault injection: the driver requeues the chosen requests (RESOURCE)',
  }),
  attribute('initHctx', {
    name: 'init_hctx',
    type: 'fault',
    wire: 'string',
    default: '',
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'fault injection: an hctx fails to initialise, failing power on or a submit_queues increase',
  }),
  // At most 256 MiB: a FLUSH writes the whole cache back in one script, a RENAME per page,
  // and Redis runs nothing else meanwhile (65,536 pages at most; null_blk has no cap).
  attribute('cacheSize', {
    name: 'cache_size',
    type: 'integer',
    wire: 'uint32',
    default: 0,
    range: [0, 256],
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'write-back cache in MiB, 0 for none: FLUSH writes it back, power off drops it; FLUSH and FUA are offered only with it',
  }),
  // null_blk's shared_tags: the disk takes its tags from the one tag set every disk with
  // shared_tags shares (DESIGN I15), with blk-mq's fair share between the active disks.
  attribute('sharedTags', {
    name: 'shared_tags',
    type: 'bool',
    wire: 'bool',
    default: false,
    live: false,
    reshapes: 'tag space',
    behaviour: true,
    help: 'take tags from the one tag set shared by every disk with shared_tags (same submit_queues, hw_queue_depth, shared_tag_bitmap), fair share per active disk',
  }),
  // Zoned mode (drivers/block/null_blk/zoned.c, DESIGN I17): null_blk's names, defaults
  // (g_zone_size 256, g_zone_append_max_sectors UINT_MAX, the rest 0) and refusals
  // (`zoneShapeOf`, checked with every change).
  attribute('zoned', {
    name: 'zoned',
    type: 'bool',
    wire: 'bool',
    default: false,
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'zoned mode: zone_nr_conv conventional zones, then sequential-write-required zones with a write pointer (discard is ignored)',
  }),
  attribute('zoneSize', {
    name: 'zone_size',
    type: 'power-of-two',
    wire: 'uint32',
    default: 256,
    range: [1, 1 << 22],
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'zone size in MiB (zoned)',
  }),
  attribute('zoneCapacity', {
    name: 'zone_capacity',
    type: 'integer',
    wire: 'uint32',
    default: 0,
    range: [0, 1 << 22],
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'writable MiB of a sequential zone, at most zone_size; 0 for zone_size (zoned)',
  }),
  attribute('zoneNrConv', {
    name: 'zone_nr_conv',
    type: 'integer',
    wire: 'uint32',
    default: 0,
    range: [0, 1 << 22],
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'conventional zones at the start of the disk (zoned)',
  }),
  attribute('zoneMaxOpen', {
    name: 'zone_max_open',
    type: 'integer',
    wire: 'uint32',
    default: 0,
    range: [0, 1 << 22],
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'most zones open at once, 0 for no limit (zoned)',
  }),
  attribute('zoneMaxActive', {
    name: 'zone_max_active',
    type: 'integer',
    wire: 'uint32',
    default: 0,
    range: [0, 1 << 22],
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'most zones open or closed at once, 0 for no limit (zoned)',
  }),
  attribute('zoneAppendMaxSectors', {
    name: 'zone_append_max_sectors',
    type: 'integer',
    wire: 'uint32',
    default: 0xffffffff,
    range: [0, 0xffffffff],
    live: false,
    reshapes: 'queue',
    behaviour: true,
    help: 'largest ZONE_APPEND in 512-byte sectors (capped at the zone capacity), 0 for none of its own (zoned)',
  }),
  attribute('zoneFull', {
    name: 'zone_full',
    type: 'bool',
    wire: 'bool',
    default: false,
    live: false,
    reshapes: 'nothing',
    behaviour: true,
    help: 'every sequential zone starts FULL at power on (zoned)',
  }),
]);

/** The row of `key`. */
export function attributeSpec<K extends keyof DiskAttributes>(key: K): AttributeSpec<K> {
  const spec = ATTRIBUTE_TABLE.find((a) => a.key === key);
  if (!spec) throw new Error(`no attribute ${String(key)} in ATTRIBUTE_TABLE`);
  return spec as AttributeSpec<K>;
}

/** A default as users write it: 0|1 for booleans, `none` for an empty list or fault. */
export function defaultText(spec: AttributeSpec): string {
  const v = spec.default;
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v === '') return 'none';
  return String(v);
}

/** The values a type accepts, as the README and `--help` name them. */
export function valuesText(spec: AttributeSpec): string {
  switch (spec.type) {
    case 'integer':
      return `${spec.range![0]}..${spec.range![1]}`;
    case 'power-of-two':
      return `power of two, ${spec.range![0]}..${spec.range![1]}`;
    case 'bool':
      return '0, 1';
    case 'irqmode':
      return '0, 1, 2';
    case 'recycle':
      return 'on-drop, inline';
    case 'badblocks':
      return '+START-END, -START-END';
    case 'fault':
      return 'INTERVAL,PROBABILITY,SPACE,TIMES';
  }
}

/** The README's attribute table (between its `attribute-table` markers), from the table. */
export function attributeTableMarkdown(): string {
  const rows = ATTRIBUTE_TABLE.map(
    (a) =>
      `| \`${a.name}\` | ${valuesText(a)} | ${defaultText(a)} | ${a.live ? 'yes' : 'no'} | ${a.reshapes} | ${a.behaviour ? a.help : `${a.help} (not in \`features\`)`} |`,
  );
  return ['| attribute | values | default | while powered | a change reshapes | what it does |', '|---|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}
