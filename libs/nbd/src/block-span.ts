// The whole blocks under a byte range, for a client that did not agree block sizes: the
// spec lets it send any offset and length (a default minimum block size of 1), while the
// device takes whole blocks of the export's minimum size and at most maxPayload at once.

/** The byte range [start, end) of whole blocks that covers a request. */
export interface BlockSpan {
  readonly start: bigint;
  readonly end: bigint;
}

/** A piece of a span the device takes in one command. */
export interface SpanPiece {
  readonly offset: bigint;
  readonly length: number;
}

/** [offset, offset + length) widened to whole blocks of `blockSize`. */
export function blockSpan(offset: bigint, length: number, blockSize: number): BlockSpan {
  const bs = BigInt(blockSize);
  return { start: (offset / bs) * bs, end: ((offset + BigInt(length) + bs - 1n) / bs) * bs };
}

/**
 * `span` in consecutive pieces of at most `maxPayload` bytes (a multiple of the block
 * size, as NbdExport's invariant makes it), so a widened request never passes the device's
 * largest submission.
 */
export function spanPieces(span: BlockSpan, maxPayload: number): SpanPiece[] {
  const out: SpanPiece[] = [];
  const max = BigInt(maxPayload);
  for (let at = span.start; at < span.end; at += max) {
    out.push({ offset: at, length: Number(span.end - at < max ? span.end - at : max) });
  }
  return out;
}

/**
 * The blocks of `span` a write of [offset, offset + length) covers only in part: their
 * old bytes must be read before the widened write (read-modify-write). The first and the
 * last block, when partial; one block when both are the same.
 */
export function partialBlocks(span: BlockSpan, offset: bigint, length: number, blockSize: number): bigint[] {
  const bs = BigInt(blockSize);
  const end = offset + BigInt(length);
  const out: bigint[] = [];
  if (offset !== span.start) out.push(span.start);
  const last = span.end - bs;
  if (end !== span.end && !out.includes(last)) out.push(last);
  return out;
}
