// `rnullctl zone …`: the zones of a zoned disk (zoned=1) as util-linux's blkzone and
// null_blk's configfs show them — report (BLKREPORTZONE), open, close, finish, reset,
// reset-all (REQ_OP_ZONE_* over BlockDevice/Submit), readonly and offline (null_blk's
// zone_readonly / zone_offline files, GenDisk/SetZoneCondition).
//
// Contract:
//   - Sectors are 512-byte sectors; a zone is named by any sector in it for report,
//     readonly and offline (as the server takes them), by its first sector for the
//     management ops (as REQ_OP_ZONE_* do: anything else completes IOERR).
//   - open / close / finish / reset with --count N act on N zones from --sector, one after
//     another, and stop at the first that does not complete OK (its status and message are
//     the error); each command then prints the zones it acted on as `zone report` does.
//   - Every rule (zoned disk, zone start, conventional zone, open / active limits) is the
//     server's: its status and message reach the user unchanged.
import { Op } from '#proto/grpc/blk/v1/block_device';
import { ZoneAdminCondition } from '#proto/grpc/blk/v1/gen_disk';
import { OptionSpecs, ParsedArgs, parseBigInt, parseInteger } from './arg-parser';
import { Command, CommandContext, requireValue, writeOut } from './command';
import { RnullClients, withClients } from './grpc-clients';
import { submitChecked } from './io-commands';
import { toJson } from './text-format';
import { renderZoneTable, zoneToJson } from './zone-view';

/** Sectors per MiB: zone_size is in MiB, zone starts in 512-byte sectors. */
const SECTORS_PER_MiB = 2048n;

const JSON_OPTION: OptionSpecs = { json: { kind: 'flag', help: 'print JSON instead of text' } };
const COUNT_HELP = 'zones from --sector on';

/** Prints `count` zones from the one that holds `sector` as the report table, or as JSON. */
async function printZones(
  ctx: CommandContext,
  args: ParsedArgs,
  c: RnullClients,
  disk: string,
  sector: bigint,
  count: number,
): Promise<void> {
  const zones = await c.reportZones({ disk, sector, count });
  const text = args.flags.has('json') ? toJson(zones.map(zoneToJson)) + '\n' : zones.length ? renderZoneTable(zones) : 'no zones\n';
  await writeOut(ctx.io.stdout, text);
}

const report: Command = {
  words: ['zone', 'report'],
  usage: 'NAME',
  summary: 'report the zones of a zoned disk: start, length, capacity, write pointer, type, condition (blkzone report)',
  positionals: { min: 1, max: 1 },
  options: {
    sector: { kind: 'value', valueName: 'S', help: 'start at the zone that holds sector S (default 0)' },
    count: { kind: 'value', valueName: 'N', help: 'at most N zones (default: every zone from --sector on)' },
    ...JSON_OPTION,
  },
  details:
    'Sectors are 512 bytes. WP is "-" for a READ_ONLY or OFFLINE zone (no write pointer); a conventional ' +
    'zone (NOT_WP) reports its end. In JSON such a zone has "wp": null.',
  async run(args, ctx) {
    const [disk] = args.positionals;
    const sector = parseBigInt(args.values.get('sector') ?? '0', '--sector');
    const count = parseInteger(args.values.get('count') ?? '0', '--count');
    await withClients(ctx, (c) => printZones(ctx, args, c, disk, sector, count));
  },
};

/** open / close / finish / reset: REQ_OP_ZONE_* on --count zones from the zone that starts at --sector. */
function managementCommand(word: string, op: Op, summary: string): Command {
  return {
    words: ['zone', word],
    usage: 'NAME',
    summary,
    positionals: { min: 1, max: 1 },
    options: {
      sector: { kind: 'value', valueName: 'S', help: 'the first sector of a sequential zone (required)' },
      count: { kind: 'value', valueName: 'N', help: `${COUNT_HELP} (default 1)` },
      ...JSON_OPTION,
    },
    details: 'Prints the zones afterwards, as zone report does.',
    async run(args, ctx) {
      const [disk] = args.positionals;
      const sector = parseBigInt(requireValue(args, 'sector'), '--sector');
      const count = parseInteger(args.values.get('count') ?? '1', '--count', 1);
      await withClients(ctx, async (c) => {
        const zoneSectors = BigInt((await c.getDisk(disk)).attributes?.zoneSize ?? 0) * SECTORS_PER_MiB;
        for (let i = 0n; i < BigInt(count); i++) {
          await submitChecked(c, { disk, op, sector: sector + i * zoneSectors, length: 0, data: Buffer.alloc(0), flags: 0 });
        }
        await printZones(ctx, args, c, disk, sector, count);
      });
    },
  };
}

const resetAll: Command = {
  words: ['zone', 'reset-all'],
  usage: 'NAME',
  summary: 'reset every sequential zone of a disk (REQ_OP_ZONE_RESET_ALL)',
  positionals: { min: 1, max: 1 },
  options: {},
  async run(args, ctx) {
    const [disk] = args.positionals;
    await withClients(ctx, (c) =>
      submitChecked(c, { disk, op: Op.OP_ZONE_RESET_ALL, sector: 0n, length: 0, data: Buffer.alloc(0), flags: 0 }),
    );
    await writeOut(ctx.io.stdout, `reset every sequential zone of ${disk}\n`);
  },
};

/** readonly / offline: null_blk's zone_readonly / zone_offline configfs files. */
function conditionCommand(word: string, condition: ZoneAdminCondition, file: string, cond: string): Command {
  return {
    words: ['zone', word],
    usage: 'NAME',
    summary: `make the zone that holds --sector ${cond}, or EMPTY when it already is (null_blk's ${file})`,
    positionals: { min: 1, max: 1 },
    options: {
      sector: { kind: 'value', valueName: 'S', help: 'a sector of the sequential zone (required)' },
      ...JSON_OPTION,
    },
    details: `The disk must be zoned and powered on. Prints the zone afterwards, as zone report does.`,
    async run(args, ctx) {
      const [name] = args.positionals;
      const sector = parseBigInt(requireValue(args, 'sector'), '--sector');
      await withClients(ctx, async (c) => {
        await c.setZoneCondition({ name, sector, condition });
        await printZones(ctx, args, c, name, sector, 1);
      });
    },
  };
}

export const ZONE_COMMANDS: readonly Command[] = [
  report,
  managementCommand('open', Op.OP_ZONE_OPEN, 'open zones explicitly (REQ_OP_ZONE_OPEN: EXP_OPEN)'),
  managementCommand('close', Op.OP_ZONE_CLOSE, 'close open zones (REQ_OP_ZONE_CLOSE: CLOSED, or EMPTY when nothing was written)'),
  managementCommand('finish', Op.OP_ZONE_FINISH, 'finish zones (REQ_OP_ZONE_FINISH: FULL, write pointer at the zone end)'),
  managementCommand('reset', Op.OP_ZONE_RESET, 'reset zones (REQ_OP_ZONE_RESET: EMPTY, their data dropped)'),
  resetAll,
  conditionCommand('readonly', ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY, 'zone_readonly', 'READ_ONLY'),
  conditionCommand('offline', ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE, 'zone_offline', 'OFFLINE'),
];
