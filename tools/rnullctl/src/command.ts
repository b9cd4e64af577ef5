// The shape of an rnullctl command: its words, options, help text and run function, and
// the IO context every command writes through (so tests run commands in-process).
//
// Contract:
//   - A command reports failure by throwing; `cli.ts` turns any throw into one line on
//     stderr and exit code 1. `CliError` and `UsageError` messages are shown as written.
//   - Commands write results to `io.stdout` and diagnostics to `io.stderr`, never to
//     `process.*` directly.
import type { ClientSecurity } from '#grpc-auth';
import { formatOptions, OptionSpecs, ParsedArgs, PositionalLimits, UsageError } from './arg-parser';

/** A failure the user can act on; the message is shown as is. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export interface OutputStream {
  write(chunk: string | Uint8Array, callback?: (err?: Error | null) => void): boolean;
  readonly isTTY?: boolean;
}

/** Where a command reads and writes; the real process streams in production. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: AsyncIterable<Buffer | string>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  address: { kind: 'value', valueName: 'HOST:PORT', help: 'dispatch gRPC address (env RNULL_ADDRESS, default 127.0.0.1:50051)' },
  deadline_ms: { kind: 'value', valueName: 'N', help: 'deadline of each unary gRPC call in ms (default 60000)' },
  'tls-certificates': {
    kind: 'value',
    valueName: 'DIR',
    help: 'TLS: verify dispatch with DIR/ca-cert.pem, present DIR/client-cert.pem and client-key.pem when there',
  },
  token: { kind: 'value', valueName: 'TOKEN', help: 'bearer token for the call (env RNULL_TOKEN, which keeps it out of ps)' },
  help: { kind: 'flag', help: 'show this help' },
};

export const DEFAULT_ADDRESS = '127.0.0.1:50051';
export const DEFAULT_DEADLINE_MS = 60_000;

/** What a command's run function gets besides its parsed arguments. */
export interface CommandContext {
  readonly io: CliIo;
  /** The gRPC address: --address, else RNULL_ADDRESS, else the default. */
  readonly address: string;
  readonly deadlineMs: number;
  /** TLS (--tls-certificates) and the bearer token (--token, else RNULL_TOKEN) of every call. */
  readonly security: ClientSecurity;
}

export interface Command {
  /** The command words, e.g. ['disk', 'create']. */
  readonly words: readonly string[];
  /** Positional arguments as shown in usage, e.g. 'NAME'. */
  readonly usage: string;
  readonly summary: string;
  /** Extra help paragraphs after the options. */
  readonly details?: string;
  readonly positionals: PositionalLimits;
  readonly options: OptionSpecs;
  run(args: ParsedArgs, ctx: CommandContext): Promise<void>;
}

/** The --help text of one command. */
export function commandHelp(cmd: Command): string {
  const lines = [
    `usage: rnullctl ${cmd.words.join(' ')}${cmd.usage ? ' ' + cmd.usage : ''} [options]`,
    '',
    cmd.summary,
    '',
    'options:',
    formatOptions(cmd.options),
    '',
    'global options:',
    formatOptions(GLOBAL_OPTIONS),
  ];
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n') + '\n';
}

/** The --help text of a command group, or of the whole tool when `prefix` is empty. */
export function groupHelp(commands: readonly Command[], prefix: readonly string[]): string {
  const matching = commands.filter((c) => prefix.every((w, i) => c.words[i] === w));
  const width = Math.max(...matching.map((c) => `${c.words.join(' ')} ${c.usage}`.length));
  const head = prefix.length ? `usage: rnullctl ${prefix.join(' ')} COMMAND [options]` : 'usage: rnullctl COMMAND [options]';
  const rows = matching.map((c) => `  ${`${c.words.join(' ')} ${c.usage}`.padEnd(width)}  ${c.summary}`);
  return (
    [
      head,
      '',
      'rnullctl talks gRPC to rnull-cluster (dispatch): disks (blk.v1.GenDisk), block IO and zones (blk.v1.BlockDevice).',
      '',
      'commands:',
      ...rows,
      '',
      'global options:',
      formatOptions(GLOBAL_OPTIONS),
      '',
      "Run 'rnullctl COMMAND --help' for the options of a command.",
    ].join('\n') + '\n'
  );
}

/** Writes `chunk` and resolves once the stream has handled it (backpressure for big reads). */
export function writeOut(stream: OutputStream, chunk: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

/** The value of a required value option, or a UsageError naming it. */
export function requireValue(args: ParsedArgs, name: string): string {
  const v = args.values.get(name);
  if (v === undefined) throw new UsageError(`missing --${name}`);
  return v;
}

/** Reads an async iterable of chunks (e.g. stdin) to one Buffer. */
export async function readAll(source: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of source) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}
