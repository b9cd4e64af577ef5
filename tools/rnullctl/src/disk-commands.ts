// `rnullctl disk …`: the blk.v1.GenDisk API as null_blk's configfs users know it —
// create, list, show, configure, power, delete, features, and the attribute table.
import { Disk } from '#proto/grpc/blk/v1/gen_disk';
import { ATTRIBUTE_TABLE, attributeTableMarkdown, defaultText, valuesText } from '#rnull';
import { OptionSpecs, ParsedArgs, UsageError } from './arg-parser';
import { Command, CommandContext, writeOut } from './command';
import { attributeOptions, attributesFromArgs } from './disk-attributes';
import { diskToJson, renderDiskDetails, renderDiskTable } from './disk-view';
import { withClients } from './grpc-clients';
import { renderTable, toJson } from './text-format';

const POWER_STATES: Readonly<Record<string, boolean>> = { on: true, off: false, '1': true, '0': false };

const JSON_OPTION: OptionSpecs = { json: { kind: 'flag', help: 'print JSON instead of text' } };

/** Prints one disk as `disk show` does, or as JSON. */
async function printDisk(ctx: CommandContext, args: ParsedArgs, disk: Disk, headline?: string): Promise<void> {
  if (args.flags.has('json')) {
    await writeOut(ctx.io.stdout, toJson(diskToJson(disk)) + '\n');
    return;
  }
  await writeOut(ctx.io.stdout, (headline ? headline + '\n' : '') + renderDiskDetails(disk));
}

const create: Command = {
  words: ['disk', 'create'],
  usage: 'NAME',
  summary: 'create a disk (null_blk: mkdir /sys/kernel/config/nullb/NAME); unset attributes take the defaults',
  positionals: { min: 1, max: 1 },
  options: {
    ...attributeOptions(),
    power: { kind: 'flag', help: 'power the disk on right after creating it' },
    ...JSON_OPTION,
  },
  details: "Attribute names are null_blk's; dashes work too (--hw-queue-depth 128).",
  async run(args, ctx) {
    const [name] = args.positionals;
    const { attributes } = attributesFromArgs(args);
    const disk = await withClients(ctx, (c) => c.createDisk({ name, attributes, power: args.flags.has('power') }));
    await printDisk(ctx, args, disk, `created disk ${disk.name}`);
  },
};

const list: Command = {
  words: ['disk', 'list'],
  usage: '',
  summary: 'list disks: name, power, size, blocksize, queues, depth, irqmode, memory_backed',
  positionals: { min: 0, max: 0 },
  options: JSON_OPTION,
  async run(args, ctx) {
    const disks = await withClients(ctx, (c) => c.listDisks());
    if (args.flags.has('json')) {
      await writeOut(ctx.io.stdout, toJson(disks.map(diskToJson)) + '\n');
      return;
    }
    await writeOut(ctx.io.stdout, disks.length ? renderDiskTable(disks) : 'no disks\n');
  },
};

const show: Command = {
  words: ['disk', 'show'],
  usage: 'NAME',
  summary: 'show every attribute of a disk',
  positionals: { min: 1, max: 1 },
  options: JSON_OPTION,
  async run(args, ctx) {
    const disk = await withClients(ctx, (c) => c.getDisk(args.positionals[0]));
    await printDisk(ctx, args, disk);
  },
};

const configure: Command = {
  words: ['disk', 'configure'],
  usage: 'NAME',
  summary: 'change attributes (while powered only submit_queues, poll_queues and badblocks may change)',
  positionals: { min: 1, max: 1 },
  options: { ...attributeOptions(), ...JSON_OPTION },
  details: 'Example: rnullctl disk configure rnullb0 --irqmode 2 --completion_nsec 50000',
  async run(args, ctx) {
    const [name] = args.positionals;
    const { attributes, count } = attributesFromArgs(args);
    if (count === 0) throw new UsageError('nothing to configure: give at least one attribute, e.g. --hw_queue_depth 128');
    const disk = await withClients(ctx, (c) => c.configureDisk({ name, attributes }));
    await printDisk(ctx, args, disk, `configured disk ${disk.name}`);
  },
};

const power: Command = {
  words: ['disk', 'power'],
  usage: 'NAME on|off',
  summary: 'power a disk on (it accepts IO) or off (null_blk: echo 1 > power)',
  positionals: { min: 2, max: 2 },
  options: JSON_OPTION,
  async run(args, ctx) {
    const [name, state] = args.positionals;
    const on = POWER_STATES[state.toLowerCase()];
    if (on === undefined) throw new UsageError(`power state must be on or off, got '${state}'`);
    const disk = await withClients(ctx, (c) => c.powerDisk(name, on));
    await printDisk(ctx, args, disk, `disk ${disk.name} powered ${disk.power ? 'on' : 'off'}`);
  },
};

const remove: Command = {
  words: ['disk', 'delete'],
  usage: 'NAME',
  summary: 'delete a disk and its data, powering it off first (null_blk: rmdir)',
  positionals: { min: 1, max: 1 },
  options: {},
  async run(args, ctx) {
    const [name] = args.positionals;
    await withClients(ctx, (c) => c.deleteDisk(name));
    await writeOut(ctx.io.stdout, `deleted disk ${name}\n`);
  },
};

const badblocks: Command = {
  words: ['disk', 'badblocks'],
  usage: 'NAME [+START-END|-START-END]...',
  summary: "set (+) or clear (-) bad sector ranges, or list them (null_blk's badblocks file); allowed while powered",
  positionals: { min: 1, max: 64 },
  options: {},
  details:
    'Ranges are inclusive 512-byte sectors, one write of the file each, applied in order. ' +
    'The list prints as the kernel shows it: one "START LENGTH" line per entry of at most 512 sectors. ' +
    'An IO that touches a bad sector fails with IOERR; see --badblocks_once and --badblocks_partial_io of disk configure.',
  async run(args, ctx) {
    const [name, ...commands] = args.positionals;
    const disk = await withClients(ctx, async (c) => {
      let d = commands.length ? undefined : await c.getDisk(name);
      for (const command of commands) d = await c.configureDisk({ name, attributes: { badblocks: command } });
      return d!;
    });
    await writeOut(ctx.io.stdout, disk.attributes?.badblocks ?? '');
  },
};

const features: Command = {
  words: ['disk', 'features'],
  usage: '',
  summary: "list the attributes this build supports (null_blk's features attribute)",
  positionals: { min: 0, max: 0 },
  options: JSON_OPTION,
  async run(args, ctx) {
    const names = await withClients(ctx, (c) => c.features());
    const text = args.flags.has('json') ? toJson(names) + '\n' : names.map((n) => n + '\n').join('');
    await writeOut(ctx.io.stdout, text);
  },
};

const attributes: Command = {
  words: ['disk', 'attributes'],
  usage: '',
  summary:
    'describe every disk attribute: values, default, whether it may change while powered, what a change reshapes (this build; no server needed)',
  positionals: { min: 0, max: 0 },
  options: { ...JSON_OPTION, markdown: { kind: 'flag', help: "print the README's Markdown table" } },
  async run(args, ctx) {
    let text: string;
    if (args.flags.has('markdown')) text = attributeTableMarkdown() + '\n';
    else if (args.flags.has('json'))
      text =
        toJson(
          ATTRIBUTE_TABLE.map((a) => ({
            name: a.name,
            type: a.type,
            values: valuesText(a),
            default: a.default,
            live: a.live,
            reshapes: a.reshapes,
            behaviour: a.behaviour,
            help: a.help,
          })),
        ) + '\n';
    else
      text = renderTable(
        ['attribute', 'values', 'default', 'live', 'reshapes', 'help'],
        ATTRIBUTE_TABLE.map((a) => [a.name, valuesText(a), defaultText(a), a.live ? 'yes' : 'no', a.reshapes, a.help]),
      );
    await writeOut(ctx.io.stdout, text);
  },
};

export const DISK_COMMANDS: readonly Command[] = [create, list, show, configure, badblocks, power, remove, features, attributes];
