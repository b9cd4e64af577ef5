// A Redis command that hands its Buffer arguments to the socket as they are. ioredis writes
// a command as one Buffer (Command.toWritable copies every argument into a new one), so a
// batch's page payloads were copied once more in the sender just to be written, into a new
// 50–100 KiB Buffer per call for the garbage collector: the sender's CPU per 4 KiB page of a
// staging MSET, socket write included, 6.4–10.8 µs that way against 3.6–5.6 scattered at 15
// pages a call, 16–22 against 2.9–3.9 at 26 (tools/bench/scatter-write-cost.js,
// docs/bench/v2-scatter/). ScatterCommand writes the
// RESP framing around each Buffer in small pieces and the Buffers themselves, corked, so the
// whole command still leaves in one writev with nothing copied in user space.
import { Command } from 'ioredis';
import type { Cluster, Redis } from 'ioredis';

/** A command scatters when one of its Buffer arguments is at least this long; else ioredis's one Buffer is as cheap. */
export const SCATTER_MIN_BYTES = 1024;

/** The part of a socket ScatterCommand writes to (a net.Socket or tls.TLSSocket). */
interface CorkableSocket {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer | string): boolean;
}

/** Whether a command with `args` scatters: it carries a Buffer of SCATTER_MIN_BYTES or more. */
export function scatters(args: readonly unknown[]): boolean {
  return args.some((a) => Buffer.isBuffer(a) && a.length >= SCATTER_MIN_BYTES);
}

function corkable(socket: unknown): socket is CorkableSocket {
  const s = socket as Partial<CorkableSocket> | undefined;
  return typeof s?.cork === 'function' && typeof s.uncork === 'function' && typeof s.write === 'function';
}

/**
 * Contract: only ever sent with `redis.sendCommand(command)`, never inside an ioredis
 * pipeline or MULTI (a pipeline writes what toWritable returns later, in one piece, and the
 * pieces written here would overtake it). ioredis writes the value toWritable returns right
 * after calling it, on the same socket, so the bytes on the wire are exactly the command's
 * RESP, in order; ioredis queues the reply as for any command, and a command sent again
 * after a reconnect (offline queue, auto-resend) is written again, whole, on the new socket.
 */
export class ScatterCommand extends Command {
  override toWritable(socket: object): string | Buffer {
    if (!corkable(socket) || !scatters(this.args)) {
      return super.toWritable(socket);
    }
    // Corked until the next tick: the pieces and the tail ioredis writes after this returns
    // leave together (one writev), also when the caller has not corked (a Cluster node).
    socket.cork();
    process.nextTick(() => socket.uncork());
    let framing = `*${this.args.length + 1}\r\n$${Buffer.byteLength(this.name)}\r\n${this.name}\r\n`;
    for (const arg of this.args) {
      if (Buffer.isBuffer(arg)) {
        socket.write(framing + `$${arg.length}\r\n`);
        socket.write(arg);
        framing = '\r\n';
      } else {
        const s = String(arg);
        framing += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
      }
    }
    return framing;
  }
}

/**
 * Sends `name` with `args` as a ScatterCommand on `redis` (a single connection or a
 * Cluster, which routes it by its keys). Bulk replies come back as strings, or as Buffers
 * with `replyEncoding` null.
 */
export function sendScattered(
  redis: Redis | Cluster,
  name: string,
  args: readonly (string | number | Buffer)[],
  replyEncoding: 'utf8' | null = 'utf8',
): Promise<unknown> {
  const command = new ScatterCommand(name, [...args], { replyEncoding, keyPrefix: redis.options.keyPrefix });
  redis.sendCommand(command);
  return command.promise;
}
