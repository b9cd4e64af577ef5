// `rnullctl load`: a short closed-loop IO run over SubmitStream (see load-generator.ts)
// with a live progress line on stderr and a summary on stdout.
//
// Contract:
//   - Runs for --seconds (default 10) or exactly --ios IOs, never both.
//   - The first SIGINT stops issuing and still prints the summary; a second one exits 130.
//   - Any non-OK completion makes the command fail (exit 1) after the summary is printed.
import { OptionSpecs, parseByteCount, parseInteger, UsageError } from './arg-parser';
import { CliError, Command, CommandContext, writeOut } from './command';
import { describeGrpcError, withClients } from './grpc-clients';
import { LoadResult, runLoad, RW_MODES, RwMode } from './load-generator';
import { LoadParams, ProgressPrinter, renderSummary, summaryToJson } from './load-report';
import { toJson } from './text-format';

const OPTIONS: OptionSpecs = {
  disk: { kind: 'value', valueName: 'NAME', help: 'disk to load (default rnullb0)' },
  seconds: { kind: 'value', valueName: 'N', help: 'run for N seconds (default 10)' },
  ios: { kind: 'value', valueName: 'N', help: 'run exactly N IOs instead of a duration' },
  qd: { kind: 'value', valueName: 'N', help: 'IOs kept in flight (default 32)' },
  bs: { kind: 'value', valueName: 'BYTES', help: 'bytes per IO, a multiple of the block size; k/m suffixes ok (default 4096)' },
  rw: { kind: 'value', valueName: RW_MODES.join('|'), help: 'pattern (default randread)' },
  rwmixread: { kind: 'value', valueName: 'PCT', help: 'percent reads for randrw (default 50)' },
  batch: { kind: 'value', valueName: 'N', help: 'most submissions per stream message (default 16)' },
  json: { kind: 'flag', help: 'print the summary as JSON' },
};

interface LoadArgs extends LoadParams {
  readonly ios?: number;
  readonly durationMs?: number;
  readonly rwMixRead: number;
  readonly json: boolean;
}

function loadArgs(values: ReadonlyMap<string, string>, json: boolean): LoadArgs {
  const int = (name: string, dflt: number, min: number, max: number) => {
    const text = values.get(name);
    return text === undefined ? dflt : parseInteger(text, `--${name}`, min, max);
  };
  if (values.has('ios') && values.has('seconds')) throw new UsageError('give --seconds or --ios, not both');
  const rw = values.get('rw') ?? 'randread';
  if (!(RW_MODES as readonly string[]).includes(rw)) throw new UsageError(`--rw must be one of ${RW_MODES.join(', ')}, got '${rw}'`);
  const bs = Number(parseByteCount(values.get('bs') ?? '4096', '--bs'));
  if (bs < 512 || bs % 512 !== 0 || bs > 64 << 20) throw new UsageError(`--bs must be a multiple of 512 up to 64 MiB, got ${bs}`);
  return {
    disk: values.get('disk') ?? 'rnullb0',
    rw: rw as RwMode,
    blockSize: bs,
    queueDepth: int('qd', 32, 1, 1 << 16),
    batchSize: int('batch', 16, 1, 1 << 16),
    rwMixRead: int('rwmixread', 50, 0, 100),
    ios: values.has('ios') ? int('ios', 0, 1, Number.MAX_SAFE_INTEGER) : undefined,
    durationMs: values.has('ios') ? undefined : int('seconds', 10, 1, 86_400) * 1000,
    json,
  };
}

/** Arms SIGINT: the first stops issuing, a second exits. Returns the disarm function. */
function onInterrupt(ctx: CommandContext, stop: AbortController): () => void {
  const handler = () => {
    if (stop.signal.aborted) process.exit(130);
    ctx.io.stderr.write('\nload: stopping, waiting for IOs in flight (Ctrl-C again to quit)\n');
    stop.abort();
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

async function runCommand(a: LoadArgs, ctx: CommandContext): Promise<LoadResult> {
  return withClients(ctx, async (clients) => {
    const disk = await clients.getDisk(a.disk);
    if (!disk.power) throw new CliError(`disk ${a.disk} is powered off: run 'rnullctl disk power ${a.disk} on' first`);
    const blocksize = disk.attributes?.blocksize ?? 512;
    if (a.blockSize % blocksize !== 0)
      throw new CliError(`--bs ${a.blockSize} is not a multiple of disk ${a.disk}'s block size ${blocksize}`);

    const progress = new ProgressPrinter(ctx.io.stderr);
    const stop = new AbortController();
    const disarm = onInterrupt(ctx, stop);
    try {
      return await runLoad({
        client: clients.blockDevice,
        disk: a.disk,
        capacitySectors: disk.capacitySectors,
        blockSize: a.blockSize,
        rw: a.rw as RwMode,
        rwMixRead: a.rwMixRead,
        queueDepth: a.queueDepth,
        batchSize: a.batchSize,
        ios: a.ios,
        durationMs: a.durationMs,
        signal: stop.signal,
        onProgress: (p) => progress.update(p),
        progressIntervalMs: 1000,
      });
    } catch (e) {
      throw describeGrpcError('BlockDevice.SubmitStream', ctx.address, e, ctx.security.tls);
    } finally {
      disarm();
      progress.finish();
    }
  });
}

export const LOAD_COMMAND: Command = {
  words: ['load'],
  usage: '',
  summary: 'run an IO load over the SubmitStream API and print IOPS, MiB/s and latency percentiles',
  positionals: { min: 0, max: 0 },
  options: OPTIONS,
  details:
    'Latency is measured client-side (stream message written to completion received).\n' +
    'Example: rnullctl load --disk rnullb0 --seconds 5 --qd 64 --bs 4k --rw randrw --batch 32',
  async run(args, ctx) {
    const a = loadArgs(args.values, args.flags.has('json'));
    const result = await runCommand(a, ctx);
    const params: LoadParams = { disk: a.disk, rw: a.rw, blockSize: a.blockSize, queueDepth: a.queueDepth, batchSize: a.batchSize };
    await writeOut(ctx.io.stdout, a.json ? toJson(summaryToJson(params, result)) + '\n' : renderSummary(params, result));
    const failed = Object.entries(result.errors);
    if (failed.length) {
      const total = failed.reduce((n, [, c]) => n + c, 0);
      throw new CliError(`load: ${total} of ${result.ios} IOs failed (${failed.map(([s, n]) => `${s} ${n}`).join(', ')})`);
    }
  },
};
