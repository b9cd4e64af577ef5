// One service of the cluster as a child process: started from dist/, its output prefixed
// with its name, its readiness read from the `ready` line and /healthz.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

export interface ServiceSpec {
  /** Service folder under services/ (and dist/services/). */
  readonly service: string;
  /** Label in the output, e.g. `rnull.1`. */
  readonly label: string;
  readonly env: Record<string, string>;
  /** Node flags of this process, after SERVICE_NODE_ARGS' (e.g. the bench's `--expose-gc`). */
  readonly nodeArgs?: readonly string[];
}

export interface ReadyLine {
  service: string;
  instance: string;
  http: number;
  grpc?: string;
  /** The NBD gateway's listening `host:port`. */
  nbd?: string;
}

/** The workspace root: the nearest folder above this file with the project's package.json. */
function workspaceRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'rnull-cluster') return dir;
  }
  throw new Error(`no rnull-cluster package.json above ${from}`);
}

const ROOT = workspaceRoot(__dirname);

/** Path of a service's compiled entry point. */
export function serviceMain(service: string): string {
  return path.join(ROOT, 'dist/services', service, 'src/main.js');
}

const RECENT_LINES = 200;

export class ServiceProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<ReadyLine>;
  readonly exited: Promise<number | null>;
  /** The child's newest output lines (up to `RECENT_LINES`), for reading why it failed. */
  private readonly recent: string[] = [];

  constructor(
    readonly spec: ServiceSpec,
    /** Where the child's lines go; undefined keeps them quiet. */
    out?: (label: string, line: string) => void,
  ) {
    // SERVICE_NODE_ARGS: extra node flags for every service, e.g. `--cpu-prof` (perf-probe).
    const extra = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    this.child = spawn(process.execPath, ['--enable-source-maps', ...extra, ...(spec.nodeArgs ?? []), serviceMain(spec.service)], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      const lines = readline.createInterface({ input: this.child.stdout! });
      const keep = (line: string) => {
        this.recent.push(line);
        if (this.recent.length > RECENT_LINES) this.recent.shift();
        out?.(spec.label, line);
      };
      lines.on('line', (line) => {
        if (line.startsWith('{"msg":"ready"')) resolve(JSON.parse(line) as ReadyLine);
        else keep(line);
      });
      readline.createInterface({ input: this.child.stderr! }).on('line', keep);
      // 'close' comes after the last output line, so `recent` holds why the child ended.
      this.child.once('close', (code) => reject(new Error(`${spec.label} exited with code ${code} before it was ready`)));
    });
    this.ready.catch(() => undefined);
  }

  /** The child's newest output lines (up to `RECENT_LINES`). */
  recentLines(): readonly string[] {
    return this.recent;
  }

  /** True when the child said it could not listen because the address is in use. */
  failedOnBusyPort(): boolean {
    return this.recent.some((line) => line.includes('EADDRINUSE'));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the child still runs: it has neither exited nor been ended by a signal. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends SIGTERM and waits; SIGKILL after `graceMs`. Resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/** Resolves when GET http://127.0.0.1:port/healthz answers 200; rejects after `timeoutMs`. */
export async function waitHealthy(port: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`http://127.0.0.1:${port}/healthz not healthy after ${timeoutMs} ms: ${last}`);
}
