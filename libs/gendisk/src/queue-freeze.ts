// Mirrors blk_mq_freeze_queue / blk_mq_unfreeze_queue around blk_mq_update_nr_hw_queues,
// across processes (DESIGN I14): gendisk marks the disk's record frozen, every dispatch
// instance stops taking its new submissions into the engine (they wait, as bios wait in
// blk_queue_enter) and closes its queue once what it holds ended, which gives the tag
// budget back; when no owner holds a tag, gendisk lays out the new tag space and stores
// the record thawed with the new attributes, and the waiting submissions run on it.
import type { DiskAttributes } from '#rnull';
import { DiskBusyError } from '#service-kit';
import type { DiskRecord } from './disk-record';

/**
 * What a freeze waits beyond the disk's request timeout before gendisk gives up: a request
 * that never ends is ended TIMEOUT by its owner after `timeout_ms`, then its tag is given
 * back. The record's own deadline runs one margin further, so a dispatch instance thaws
 * on its own only when gendisk died mid-freeze.
 */
export const FREEZE_MARGIN_MS = 2000;

/** How often gendisk asks whether the frozen disk's tag space is idle, ms. */
export const FREEZE_POLL_MS = 10;

/** The deadlines of one freeze that starts now: gendisk's, and the record's (later). */
export function freezeDeadlines(attributes: DiskAttributes, nowMs = Date.now()): { giveUpAtMs: number; recordUntilMs: number } {
  const giveUpAtMs = nowMs + attributes.timeoutMs + FREEZE_MARGIN_MS;
  return { giveUpAtMs, recordUntilMs: giveUpAtMs + FREEZE_MARGIN_MS };
}

/** True while `record` is frozen: marked, and its deadline not passed (I14). */
export function isFrozen(record: DiskRecord, nowMs = Date.now()): boolean {
  return record.frozenUntilMs !== undefined && nowMs < record.frozenUntilMs;
}

/** `record` without a freeze mark (a thawed record, or one a dead gendisk left frozen). */
export function thawed(record: DiskRecord): DiskRecord {
  if (record.frozenUntilMs === undefined) return record;
  const { frozenUntilMs: _, ...rest } = record;
  return rest;
}

/**
 * The tag space to replace is still in use (an owner holds a tag or a live lease): a
 * frozen disk waits and asks again; any other DiskBusyError fails the change at once.
 */
export class TagSpaceBusyError extends DiskBusyError {}
