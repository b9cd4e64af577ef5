// The encoder behind every generated grpc-js serializer: tools/gen-proto.js rewrites
// ts-proto's `Buffer.from(T.encode(value).finish())` in libs/proto/src/grpc/ into
// `encodeMessage(T, value)`.
//
// Why: @bufbuild/protobuf's BinaryWriter starts at 128 bytes and doubles, copying, until
// the message fits; `finish()` then copies the message out, and `Buffer.from` copied it
// once more. A SubmitBatch of 32 writes of 4 KiB (128 KiB) allocated and zeroed about
// 640 KiB and copied about 512 KiB per message, and the load generator's CPU went mostly to
// the garbage collector (docs/bench/v2-stream-window/). One writer is kept and reused:
// after the first large message it has room, and a message costs what encoding itself
// does (each nested message longer than 127 bytes is still shifted once in the writer, to
// make room for its length) and the copy `finish()` makes.
//
// Contract:
//   - The bytes are exactly those of `T.encode(value).finish()`.
//   - The Buffer returned owns its memory (the ArrayBuffer `finish()` made for it), so a
//     caller may keep it while later messages are encoded.
//   - Safe to share: encoding is synchronous and never re-enters this function.
//   - A writer that held a message over SHARED_WRITER_MAX_BYTES is dropped after it, so one
//     large message does not pin its buffer (kept: at most twice that).
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** The largest message whose writer is kept for the next one; a larger one gets a new writer after it. */
export const SHARED_WRITER_MAX_BYTES = 1024 * 1024;

/** What ts-proto generates for a message type: `encode` into a given writer. */
export interface MessageEncoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

let shared = new BinaryWriter();

/** `value` encoded by `type`, as a Buffer of its own; see the file contract. */
export function encodeMessage<T>(type: MessageEncoder<T>, value: T): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = type.encode(value, shared).finish();
  } catch (err) {
    shared = new BinaryWriter(); // a throw mid-message leaves the writer part-written
    throw err;
  }
  if (bytes.byteLength > SHARED_WRITER_MAX_BYTES) shared = new BinaryWriter();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
