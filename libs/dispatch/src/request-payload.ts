// Mirrors walking a request's bios (`rq_for_each_segment`) for the bytes a WRITE carries,
// as one contiguous buffer: the form both the batch message (remote placement) and the
// owner's page-op run (local placement) send to Redis.
import type { Request } from '#blk-mq';

/** A WRITE request's payload: its one bio's bytes as a view (no copy), or its merged bios joined. */
export function payloadOf(rq: Request<unknown>): Buffer {
  const parts = rq.bios.map((b) => b.data!);
  const view = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return parts.length === 1 ? view(parts[0]) : Buffer.concat(parts.map(view), rq.bytes);
}
