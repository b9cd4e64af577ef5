// rnullctl's top level: finds the command in argv, parses its options, runs it, and turns
// the outcome into an exit code — 0 on success, 1 on any failure with one message on stderr.
//
// Contract:
//   - Global options (--address, --deadline_ms, --help) may come before, between or after
//     the command words: `rnullctl --address h:p disk list` = `rnullctl disk list --address h:p`.
//   - `--help` (or `help`) prints help to stdout and exits 0, for the tool, a group or a
//     command; no gRPC call is made.
//   - The address is --address, else $RNULL_ADDRESS, else 127.0.0.1:50051.
//   - The token is --token, else $RNULL_TOKEN, else none; --tls-certificates DIR turns TLS
//     on (README "Security"). A bad directory or token fails before any call, naming the
//     option, never printing the token.
//   - `run` never throws and never calls process.exit, so tests run it in-process.
import { ClientSecurity } from '#grpc-auth';
import { normalizeOptionName, parseArgs, parseInteger, UsageError } from './arg-parser';
import {
  CliError,
  CliIo,
  Command,
  commandHelp,
  DEFAULT_ADDRESS,
  DEFAULT_DEADLINE_MS,
  GLOBAL_OPTIONS,
  groupHelp,
  writeOut,
} from './command';
import { DISK_COMMANDS } from './disk-commands';
import { IO_COMMANDS } from './io-commands';
import { LOAD_COMMAND } from './load-command';
import { ZONE_COMMANDS } from './zone-commands';

export const COMMANDS: readonly Command[] = [...DISK_COMMANDS, ...IO_COMMANDS, ...ZONE_COMMANDS, LOAD_COMMAND];

const GLOBAL_VALUE_OPTIONS = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, s]) => s.kind === 'value')
    .map(([n]) => normalizeOptionName(n)),
);

/**
 * Splits argv into the command words and everything else (options keep their order).
 * Global options may sit before or between the words; `help WORDS…` means `WORDS… --help`.
 */
function splitCommand(argv: readonly string[]): { words: string[]; rest: string[] } {
  const rest: string[] = [];
  const words: string[] = [];
  let i = 0;
  if (argv[0] === 'help') {
    rest.push('--help');
    i = 1;
  }
  while (i < argv.length) {
    const token = argv[i];
    if (token.startsWith('-')) {
      const name = normalizeOptionName(token.replace(/^--?/, '').split('=')[0]);
      if (token === '-h' || name === 'help') {
        rest.push(argv[i++]);
        continue;
      }
      if (!GLOBAL_VALUE_OPTIONS.has(name)) break;
      rest.push(argv[i++]);
      if (!token.includes('=') && i < argv.length) rest.push(argv[i++]);
      continue;
    }
    const candidate = [...words, token];
    if (!COMMANDS.some((c) => candidate.every((w, k) => c.words[k] === w))) break;
    words.push(token);
    i++;
  }
  return { words, rest: [...rest, ...argv.slice(i)] };
}

function wantsHelp(tokens: readonly string[]): boolean {
  return tokens.some((t) => t === '--help' || t === '-h');
}

/** Runs one rnullctl invocation; resolves to the process exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { words, rest } = splitCommand(argv);
  const cmd = COMMANDS.find((c) => c.words.length === words.length && c.words.every((w, k) => w === words[k]));

  if (!cmd) {
    const isPrefix = COMMANDS.some((c) => words.every((w, k) => c.words[k] === w));
    const prefix = isPrefix ? words : [];
    if (wantsHelp(rest)) {
      await writeOut(io.stdout, groupHelp(COMMANDS, prefix));
      return 0;
    }
    const given = [...words, ...rest.filter((t) => !t.startsWith('-'))].slice(0, words.length + 1).join(' ');
    const problem = given ? `unknown command '${given}'` : 'no command given';
    await writeOut(io.stderr, `rnullctl: ${problem}\n\n${groupHelp(COMMANDS, prefix)}`);
    return 1;
  }

  const name = `rnullctl ${cmd.words.join(' ')}`;
  try {
    const args = parseArgs(rest, { ...cmd.options, ...GLOBAL_OPTIONS }, cmd.positionals);
    if (args.flags.has('help')) {
      await writeOut(io.stdout, commandHelp(cmd));
      return 0;
    }
    const address = args.values.get('address') ?? (io.env.RNULL_ADDRESS || DEFAULT_ADDRESS);
    if (!address) throw new UsageError('--address is empty');
    const deadlineText = args.values.get('deadline_ms');
    const deadlineMs = deadlineText === undefined ? DEFAULT_DEADLINE_MS : parseInteger(deadlineText, '--deadline_ms', 1);
    const security = clientSecurity(args.values.get('tls-certificates'), args.values.get('token') ?? (io.env.RNULL_TOKEN || undefined));
    await cmd.run(args, { io, address, deadlineMs, security });
    return 0;
  } catch (e) {
    await writeOut(io.stderr, `${name}: ${describeFailure(e, name)}\n`);
    return 1;
  }
}

/** TLS from --tls-certificates and the token; a bad directory or token is a CliError naming the option. */
function clientSecurity(tlsDir: string | undefined, token: string | undefined): ClientSecurity {
  if (tlsDir === '') throw new UsageError('--tls-certificates is empty');
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token))
    throw new UsageError('--token (or RNULL_TOKEN) must be one token of visible ASCII characters');
  try {
    return ClientSecurity.of({
      tls: tlsDir === undefined ? undefined : { dir: tlsDir, setting: '--tls-certificates' },
      token,
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

function describeFailure(e: unknown, name: string): string {
  if (e instanceof UsageError) return `${e.message} (see '${name} --help')`;
  if (e instanceof CliError) return e.message;
  if (e instanceof Error) return `unexpected error: ${e.stack ?? e.message}`;
  return `unexpected error: ${String(e)}`;
}
