// How a blk.v1.Disk is shown: the `disk list` table, the `disk show` attribute list and
// the `--json` object (null_blk attribute names, 64-bit values as exact numbers).
import { Disk } from '#proto/grpc/blk/v1/gen_disk';
import { attributesToJson, attributeText, DISK_ATTRIBUTES, jsonInteger } from './disk-attributes';
import { formatBytes, renderKeyValues, renderTable } from './text-format';

/** The columns of `disk list`, by null_blk attribute name where there is one. */
const LIST_COLUMNS: readonly (readonly [header: string, attribute: string])[] = [
  ['SIZE(MiB)', 'size'],
  ['BLOCKSIZE', 'blocksize'],
  ['QUEUES', 'submit_queues'],
  ['DEPTH', 'hw_queue_depth'],
  ['IRQMODE', 'irqmode'],
  ['MEMORY_BACKED', 'memory_backed'],
];

/** One disk as a JSON-ready object. */
export function diskToJson(disk: Disk): Record<string, unknown> {
  return {
    name: disk.name,
    index: disk.index,
    power: disk.power,
    capacity_sectors: jsonInteger(disk.capacitySectors),
    attributes: attributesToJson(disk.attributes),
  };
}

/** The `disk list` table, sorted by creation index. */
export function renderDiskTable(disks: readonly Disk[]): string {
  const sorted = [...disks].sort((a, b) => a.index - b.index || a.name.localeCompare(b.name));
  const rows = sorted.map((d) => [
    d.name,
    d.power ? 'on' : 'off',
    ...LIST_COLUMNS.map(([, name]) =>
      attributeText(
        d.attributes,
        DISK_ATTRIBUTES.find((a) => a.name === name)!,
      ),
    ),
  ]);
  return renderTable(['NAME', 'POWER', ...LIST_COLUMNS.map(([h]) => h)], rows);
}

/** The `disk show` text: identity, capacity, then every attribute by null_blk name. */
export function renderDiskDetails(disk: Disk): string {
  const bytes = disk.capacitySectors * 512n;
  return renderKeyValues([
    ['name', disk.name],
    ['index', String(disk.index)],
    ['power', disk.power ? '1 (on)' : '0 (off)'],
    ['capacity_sectors', `${disk.capacitySectors} (${formatBytes(bytes)})`],
    ...DISK_ATTRIBUTES.map((a) => [a.name, attributeText(disk.attributes, a)] as const),
  ]);
}
