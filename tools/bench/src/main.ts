// `npm run bench`: parses the command line, runs the benchmark, prints the report on
// stdout and writes the files of `writeOutputs` under --out.
// Ctrl-C stops the run at once and still removes every disk, process and key it made.
import * as path from 'node:path';
import { BenchUsageError, parseBenchArgs, USAGE } from './bench-matrix';
import { BenchProgress } from './bench-progress';
import { renderText, writeOutputs } from './bench-report';
import { BenchAborted, runBench } from './bench-run';
import { MissingToolError, stopAllChildren } from './external-tool';

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof BenchUsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: string) => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write(`\nbench: second ${sig}, exiting without cleanup\n`);
      process.exit(130);
    }
    process.stderr.write(`\nbench: ${sig}, stopping and cleaning up (again to force)\n`);
    abort.abort();
    stopAllChildren();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const progress = new BenchProgress(process.stderr);
  const command = `npm run bench --${argv.length ? ' ' + argv.join(' ') : ''}`;
  try {
    const report = await runBench(options, progress, command, abort.signal);
    const text = renderText(report);
    process.stdout.write(text);
    const files = writeOutputs(path.resolve(options.out), report, text);
    process.stderr.write(`wrote ${files.join(', ')}\n`);
    return 0;
  } catch (err) {
    if (err instanceof BenchAborted) return 130;
    if (err instanceof MissingToolError) {
      process.stderr.write(`bench: ${err.message}\n`);
      return 3;
    }
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // gRPC channels and Redis sockets may linger a moment; the run is over.
  setTimeout(() => process.exit(code), 200).unref();
});
