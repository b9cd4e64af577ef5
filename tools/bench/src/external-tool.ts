// The programs the harness runs besides the cluster (fio, nbdkit): a presence check that
// names the Debian package, and a child process that the harness can always stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Debian / Ubuntu package of each external program. */
export const APT_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  fio: 'fio',
  nbdkit: 'nbdkit',
});

export class MissingToolError extends Error {}

/** Throws a `MissingToolError` naming the apt package unless `name` is on the PATH. */
export function requireTool(name: string): void {
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (which.status !== 0) {
    const pkg = APT_PACKAGES[name] ?? name;
    throw new MissingToolError(`${name} is not on the PATH: install it (Debian/Ubuntu: apt-get install ${pkg})`);
  }
}

/** Children started by the harness that are still running; `stopAllChildren` ends them. */
const running = new Set<ChildProcess>();

/** Spawns `cmd` and tracks it until it exits. */
export function spawnTracked(cmd: string, args: readonly string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** SIGTERM to every tracked child (Ctrl-C and the end of the run). */
export function stopAllChildren(): void {
  for (const c of running) c.kill('SIGTERM');
}

export interface ChildOutput {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd` to its end and collects its output; rejects only if it cannot start. */
export function runTracked(cmd: string, args: readonly string[]): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(cmd, args);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
