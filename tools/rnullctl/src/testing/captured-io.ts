// FOR TESTS: runs rnullctl in-process with captured stdout/stderr and a given stdin, and
// returns the exit code and everything written.
import { run } from '../cli';
import { CliIo, OutputStream } from '../command';

/** An OutputStream that keeps every chunk. */
export class CapturedOutput implements OutputStream {
  private readonly chunks: Buffer[] = [];

  constructor(readonly isTTY = false) {}

  write(chunk: string | Uint8Array, callback?: (err?: Error | null) => void): boolean {
    this.chunks.push(Buffer.from(chunk));
    if (callback) queueMicrotask(() => callback(null));
    return true;
  }

  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.buffer().toString('utf8');
  }
}

export interface CliRun {
  readonly code: number;
  readonly stdout: Buffer;
  /** stdout as UTF-8. */
  readonly out: string;
  readonly err: string;
}

export interface CliRunOptions {
  readonly stdin?: Buffer;
  readonly env?: Record<string, string | undefined>;
  readonly stdoutIsTTY?: boolean;
  readonly stderrIsTTY?: boolean;
}

async function* chunksOf(data: Buffer): AsyncGenerator<Buffer> {
  const step = 64 * 1024;
  for (let off = 0; off < data.length; off += step) yield data.subarray(off, off + step);
}

/** `rnullctl ...argv` in-process. */
export async function runCli(argv: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  const stdout = new CapturedOutput(options.stdoutIsTTY ?? false);
  const stderr = new CapturedOutput(options.stderrIsTTY ?? false);
  const io: CliIo = { stdout, stderr, stdin: chunksOf(options.stdin ?? Buffer.alloc(0)), env: options.env ?? {} };
  const code = await run(argv, io);
  return { code, stdout: stdout.buffer(), out: stdout.text(), err: stderr.text() };
}
