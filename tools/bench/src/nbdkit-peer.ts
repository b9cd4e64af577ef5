// The peer of every comparison (path c): nbdkit's `memory` plugin (memory_backed=1) or
// `null` plugin (memory_backed=0) on a free loopback port, started and stopped by the
// harness, dying with it (`--exit-with-parent`).
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { freePort } from '../../cluster/private-redis';
import { requireTool, spawnTracked } from './external-tool';

/** `nbdkit` arguments of a peer: foreground, loopback, one plugin of `sizeMiB`. */
export function nbdkitArgs(port: number, memoryBacked: boolean, sizeMiB: number): string[] {
  return ['-f', '-i', '127.0.0.1', '-p', String(port), '--exit-with-parent', memoryBacked ? 'memory' : 'null', `size=${sizeMiB}M`];
}

/**
 * A running nbdkit.
 *
 * Invariants: `uri` accepts NBD connections once `start` resolves; `stop` resolves when
 * the process has exited.
 */
export class NbdkitPeer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly plugin: 'memory' | 'null',
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** nbd://127.0.0.1:PORT/ (nbdkit serves one export whatever the name). */
  get uri(): string {
    return `nbd://127.0.0.1:${this.port}/`;
  }

  static async start(memoryBacked: boolean, sizeMiB: number): Promise<NbdkitPeer> {
    requireTool('nbdkit');
    const port = await freePort();
    const child = spawnTracked('nbdkit', nbdkitArgs(port, memoryBacked, sizeMiB));
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const peer = new NbdkitPeer(child, port, memoryBacked ? 'memory' : 'null');
    const until = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`nbdkit ${peer.plugin} did not listen on port ${port}: ${stderr.trim() || `exit code ${child.exitCode}`}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return peer;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** Resolves true when a TCP connection to 127.0.0.1:port succeeds. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
