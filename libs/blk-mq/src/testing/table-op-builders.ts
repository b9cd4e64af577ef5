// Mirrors no kernel object: builders of `TableOp`s and small helpers shared by the
// request-table contract suites.

import { BlkStatus } from '../blk-status';
import type { RequestTable, RequestToken, TableOp, TagSpaceConfig } from '../request-table';

export type MakeRequestTable = (cfg: TagSpaceConfig, disk: string) => Promise<RequestTable>;
/** Makes a fresh table for one test: 1 hctx x 4 tags, on-drop, unless overridden. */
export type TableFactory = (over?: Partial<TagSpaceConfig>) => Promise<RequestTable>;

export const DEADLINE_MS = 1_000;

export const start = (token: RequestToken, deadlineMs = DEADLINE_MS): TableOp => ({ op: 'start', token, deadlineMs });
export const requeue = (token: RequestToken): TableOp => ({ op: 'requeue', token });
export const end = (token: RequestToken, status: number = BlkStatus.OK, drop?: boolean): TableOp =>
  drop === undefined ? { op: 'end', token, status } : { op: 'end', token, status, drop };
export const ref = (token: RequestToken): TableOp => ({ op: 'ref', token });
export const drop = (token: RequestToken): TableOp => ({ op: 'drop', token });

/** `hctx/tag#gen`, for comparing sets of tokens and slots. */
export const key = (t: { hctx: number; tag: number; gen: number }): string => `${t.hctx}/${t.tag}#${t.gen}`;
export const keys = (ts: readonly { hctx: number; tag: number; gen: number }[]): string[] => ts.map(key).sort();

export const slotOf = (t: RequestTable, tok: RequestToken) => t.slot(tok.hctx, tok.tag);

let diskSeq = 0;
/** A disk name no other test of this process or a parallel one uses (<= 31 bytes). */
export function uniqueDisk(): string {
  return `ct${process.pid % 100000}-${Date.now() % 1000000}-${++diskSeq}`;
}
