// Submissions in flight per gRPC client, over all its calls and connections
// (GRPC_MAX_INFLIGHT_PER_CLIENT, README "Limits"): the per-stream limit
// (STREAM_INFLIGHT_LIMIT) alone lets one client open many streams and hold many times
// it. A client is its bearer token where it sends one, else its address without the port
// (so reconnecting, or a second connection, is the same client).
//
// Contract:
//   - `inFlight` of a client never exceeds the limit: a submission enters only through
//     `tryTake`, and leaves through `give`, exactly once each.
//   - A SubmitStream that finds no room waits (`wait`): it stops reading, which is
//     back-pressure to its client over HTTP/2, and is woken when a submission of the same
//     client ends. Every waiter is woken at each `give` and tries again in the order it
//     began to wait, so no stream of a client is starved by another.
//   - A unary Submit that finds no room is refused RESOURCE_EXHAUSTED, naming the setting
//     (a unary call has no stream to hold back).
//   - A client's entry is dropped only when no call holds it (`of` … `release`) and it has
//     nothing in flight, so every call of a client counts against one entry.
import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';

/** Who a client is: `token:<first 16 hex of its SHA-256>` or `peer:<address>`. Never the token itself. */
export function clientKeyOf(metadata: grpc.Metadata, peer: string): string {
  const auth = metadata.get('authorization');
  if (auth.length === 1) return `token:${createHash('sha256').update(String(auth[0])).digest('hex').slice(0, 16)}`;
  // grpc-js peers: `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`, `127.0.0.1:5000`, `unix:…`.
  return `peer:${peer.replace(/:\d+$/, '').replace(/^ipv[46]:/, '')}`;
}

export class ClientBudget {
  private inFlight = 0;
  /** Calls that hold this entry (`ClientBudgets.of`), until their `release`. */
  users = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly limit: number,
    private readonly onIdle: () => void,
  ) {}

  /** Takes room for one submission; false when the client is at the limit. */
  tryTake(): boolean {
    if (this.inFlight >= this.limit) return false;
    this.inFlight++;
    return true;
  }

  /** One submission taken with `tryTake` ended: wakes every waiter. */
  give(): void {
    this.inFlight--;
    if (this.waiters.size > 0) {
      const woken = [...this.waiters];
      this.waiters.clear();
      for (const wake of woken) wake();
    }
    this.maybeIdle();
  }

  /** `wake` runs once, at the next `give`. */
  wait(wake: () => void): void {
    this.waiters.add(wake);
  }

  /** A waiter that goes away (its stream closed). */
  cancel(wake: () => void): void {
    this.waiters.delete(wake);
  }

  /** The call that got this entry from `ClientBudgets.of` is done with it (its submissions may still be in flight). */
  release(): void {
    this.users--;
    this.maybeIdle();
  }

  get held(): number {
    return this.inFlight;
  }

  private maybeIdle(): void {
    if (this.inFlight === 0 && this.users === 0) this.onIdle();
  }
}

/** The budgets of every client of one gRPC server. */
export class ClientBudgets {
  private readonly clients = new Map<string, ClientBudget>();

  /** `limit`: GRPC_MAX_INFLIGHT_PER_CLIENT. */
  constructor(readonly limit: number) {}

  /** The entry of client `key`, held until the caller's `release()`. */
  of(key: string): ClientBudget {
    let b = this.clients.get(key);
    if (!b) {
      const made: ClientBudget = new ClientBudget(this.limit, () => {
        if (this.clients.get(key) === made) this.clients.delete(key);
      });
      b = made;
      this.clients.set(key, b);
    }
    b.users++;
    return b;
  }

  /** Clients with a call open or anything in flight (for tests). */
  get size(): number {
    return this.clients.size;
  }
}
