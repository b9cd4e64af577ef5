// Mirrors the refusals blk-mq makes on a request in the wrong state (the WARN_ON_ONCE of a
// double blk_mq_end_request, a stale tag in blk_mq_tag_to_rq): here as typed errors, mapped
// from negative `OpResult` codes in this one place.

import { OpResult } from './request-table';

/** Base of every refusal by a `RequestTable`; nothing changed when one is raised. */
export class RequestTableError extends Error {
  constructor(
    readonly code: OpResult,
    /** The refused request as `disk/hctx/tag#gen`. */
    readonly token: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The token's generation is not the slot's current one, or the slot is IDLE (STALE). */
export class StaleRequestError extends RequestTableError {}

/** `end` on a request of the current generation that already ended (ALREADY_COMPLETE). */
export class DoubleEndError extends RequestTableError {}

/** The op does not apply in the slot's state, e.g. `start` on COMPLETE (BAD_STATE). */
export class RequestStateError extends RequestTableError {}

/** A reference was dropped that is not held, or there is none to give back (NO_REFERENCE). */
export class NoReferenceError extends RequestTableError {}

type ErrorClass = new (code: OpResult, token: string, message: string) => RequestTableError;

const BY_CODE: ReadonlyMap<OpResult, { cls: ErrorClass; what: string }> = new Map([
  [OpResult.Stale, { cls: StaleRequestError, what: 'stale request: the tag was reallocated or is idle' }],
  [OpResult.AlreadyComplete, { cls: DoubleEndError, what: 'request already ended' }],
  [OpResult.BadState, { cls: RequestStateError, what: 'op does not apply in the request state' }],
  [OpResult.NoReference, { cls: NoReferenceError, what: 'no reference left to drop' }],
]);

/**
 * The typed error for `code`, or `undefined` for a success code (>= 0). `op` names the
 * refused operation in the message.
 */
export function tableError(code: OpResult, token: string, op?: string): RequestTableError | undefined {
  if (code >= 0) return undefined;
  const e = BY_CODE.get(code);
  if (!e) return new RequestTableError(code, token, `${token}: ${op ?? 'op'} refused with unknown code ${code}`);
  return new e.cls(code, token, `${token}: ${op ?? 'op'} refused, ${e.what} (${OpResult[code]})`);
}

/**
 * Returns `code` when it is a success code; throws the typed error otherwise. `request` is
 * the token (`disk/hctx/tag#gen`) or something that names it, asked only on a refusal: a
 * Request's name is a new string, and the hot path checks every start and end.
 */
export function checkOpResult(code: OpResult, request: string | { readonly name: string }, op?: string): OpResult {
  if (code >= 0) return code;
  throw tableError(code, typeof request === 'string' ? request : request.name, op);
}
