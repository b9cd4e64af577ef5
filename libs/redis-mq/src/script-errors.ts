// Mirrors the kernel's errno returns from the block layer's setup paths
// (`blk_mq_alloc_tag_set`, `null_add_dev`): the one place where a negative return code of
// a Lua script in `lua/` becomes a typed error.
//
// Contract: a script that refuses returns a negative integer, or `{code, detail}` with a
// negative code and a string naming the culprit, and has changed nothing (scripts
// validate before they write, and buffer writes until they cannot fail).
// Per-op results of `applyOps` are not errors; they are `OpResult` codes.

/** Negative return codes shared by every script in `lua/`. */
export enum ScriptCode {
  /** `queueBatch`: the disk has no tag space (never powered on, or deleted). */
  NoTable = -2,
  /** `runPageOps`: a write's payload field in `rqdata` does not exist (per op). */
  NoRequestData = -3,
  /** `runPageOps`, `applyPageOps`: a write's payload does not hold exactly `len` bytes. */
  RequestDataSize = -4,
  /** `layOutTagSpace`: the tag space to replace has tags held by an owner. */
  TableBusy = -5,
  /**
   * v2 scripts: the owner epoch is not (or no longer) in `owners`, or its lease ran out.
   * The one refusal that may change something: `runPageOps` deletes the batch's write
   * payloads (nobody will take them) before returning it.
   */
  OwnerGone = -6,
  /** v2 fenced scripts: the caller's lease member is no longer in the queue's `leased`. */
  LeaseLost = -7,
  /** `layOutSharedTags`: the shared tag set's other members use another shape (I15). */
  ShapeMismatch = -8,
}

/** Base of every error raised for a script's refusal. */
export class RedisMqError extends Error {
  constructor(
    readonly code: ScriptCode,
    readonly script: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The disk has no request table (ENODEV). */
export class TableNotFoundError extends RedisMqError {}

/** A reshape found requests still live in the old table (EBUSY). */
export class TableBusyError extends RedisMqError {}

/** A copy between request data and the page store named missing or mis-sized data (EINVAL). */
export class RequestDataError extends RedisMqError {}

/** The owner epoch is gone (its lease expired and was reclaimed): stop using it (ESTALE). */
export class OwnerGoneError extends RedisMqError {}

/** The batch's lease was lost (reclaimed and maybe claimed again): leave the batch alone. */
export class LeaseLostError extends RedisMqError {}

/**
 * The shared tag set has another shape than the disk asks for (EINVAL; I15): `field` of
 * the set's shape (nr_hw_queues, queue_depth, shared_tag_bitmap) is `have`, not `wanted`.
 */
export class TagSetShapeError extends RedisMqError {
  constructor(
    code: ScriptCode,
    script: string,
    message: string,
    readonly field = '',
    readonly wanted = NaN,
    readonly have = NaN,
  ) {
    super(code, script, message);
  }
}

const MESSAGES: Record<ScriptCode, string> = {
  [ScriptCode.NoTable]: 'no tag space (never powered on, or deleted)',
  [ScriptCode.NoRequestData]: 'request data field does not exist',
  [ScriptCode.RequestDataSize]: 'request data field has the wrong length',
  [ScriptCode.TableBusy]: 'tags of the tag space are held; retry when the disk is idle',
  [ScriptCode.OwnerGone]: 'owner epoch is not alive (its expired lease was reclaimed)',
  [ScriptCode.LeaseLost]: 'batch lease is no longer held',
  [ScriptCode.ShapeMismatch]: 'the shared tag set has another shape',
};

/** The typed error for `code`, returned by `script`, about `subject` (a disk or token). */
export function scriptError(script: string, code: number, subject: string): RedisMqError {
  const text = MESSAGES[code as ScriptCode] ?? `unknown script return code ${code}`;
  const message = `${script}: ${subject}: ${text}`;
  switch (code) {
    case ScriptCode.NoTable:
      return new TableNotFoundError(code, script, message);
    case ScriptCode.TableBusy:
      return new TableBusyError(code, script, message);
    case ScriptCode.OwnerGone:
      return new OwnerGoneError(code, script, message);
    case ScriptCode.LeaseLost:
      return new LeaseLostError(code, script, message);
    case ScriptCode.ShapeMismatch:
      return new TagSetShapeError(code, script, message);
    case ScriptCode.NoRequestData:
    case ScriptCode.RequestDataSize:
      return new RequestDataError(code, script, message);
    default:
      return new RedisMqError(code as ScriptCode, script, message);
  }
}

/** Throws the typed error when `reply` is a refusal; returns `reply` otherwise. */
export function checkReply<T>(script: string, reply: T | number, subject: string): T {
  if (typeof reply === 'number' && reply < 0) throw scriptError(script, reply, subject);
  if (Array.isArray(reply) && typeof reply[0] === 'number' && reply[0] < 0) {
    const detail = reply.length > 1 ? ` (${String(reply[1])})` : '';
    throw scriptError(script, reply[0], `${subject}${detail}`);
  }
  return reply as T;
}
