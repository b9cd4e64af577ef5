// Path (c): the same fio job against nbdkit on the same machine — `memory` for
// memory_backed=1, `null` for memory_backed=0 — the peer every ratio is taken against.
//
// Contract: one nbdkit per plugin, started on first use; `renew` replaces the memory
// plugin's with a new one before each memory-backed configuration, so that path c starts
// every configuration on an empty export, as paths a, b and d start on a new disk (before,
// a write row of c overwrote pages that earlier rows had allocated, while the cluster's
// wrote fresh ones). nbdkit has no irqmode, so one measurement per (rw, bs, qd,
// memory_backed) serves every irqmode.
import type { BenchConfig } from '../bench-matrix';
import type { PathMeasurement } from '../bench-result';
import { measureCpu } from '../cpu-per-io';
import { fillTarget, runFio } from '../fio-job';
import { NbdkitPeer } from '../nbdkit-peer';

export class NbdkitPath {
  private readonly peers = new Map<boolean, Promise<NbdkitPeer>>();
  /** Peers written end to end once (`--precondition fill`); nbdkit keeps its pages until `renew`. */
  private readonly filled = new Set<boolean>();

  constructor(private readonly sizeMiB: number) {}

  private peer(memoryBacked: boolean): Promise<NbdkitPeer> {
    let p = this.peers.get(memoryBacked);
    if (!p) {
      p = NbdkitPeer.start(memoryBacked, this.sizeMiB);
      p.catch(() => this.peers.delete(memoryBacked));
      this.peers.set(memoryBacked, p);
    }
    return p;
  }

  /** Stops the peer of `memoryBacked` (if any): the next use starts a new, empty one. */
  async renew(memoryBacked: boolean): Promise<void> {
    const p = this.peers.get(memoryBacked);
    this.peers.delete(memoryBacked);
    this.filled.delete(memoryBacked);
    await p?.then(
      (x) => x.stop(),
      () => undefined,
    );
  }

  /** Writes the peer of `c` end to end, once per peer. */
  async fill(c: BenchConfig, onTick?: (elapsedSeconds: number) => void): Promise<void> {
    if (this.filled.has(c.memoryBacked)) return;
    await fillTarget((await this.peer(c.memoryBacked)).uri, this.sizeMiB, onTick);
    this.filled.add(c.memoryBacked);
  }

  async run(c: BenchConfig, seconds: number, onTick?: (elapsedSeconds: number) => void): Promise<PathMeasurement> {
    const peer = await this.peer(c.memoryBacked);
    // nbdkit's own CPU (the peer's "server side") and fio's, as for path b.
    const { result, cpu } = await measureCpu(
      { pids: new Map([['nbdkit', peer.pid]]) },
      () => runFio(c, peer.uri, seconds, this.sizeMiB, onTick),
      (x) => x.ios,
      (x) => ({ client: x.clientCpuSeconds }),
    );
    return { ...result, cpu };
  }

  async stop(): Promise<void> {
    const peers = [...this.peers.values()];
    this.peers.clear();
    await Promise.all(
      peers.map((p) =>
        p.then(
          (x) => x.stop(),
          () => undefined,
        ),
      ),
    );
  }
}
