// Mirrors null_blk's request fault injection (drivers/block/null_blk/main.c,
// CONFIG_BLK_DEV_NULL_BLK_FAULT_INJECTION): `should_timeout_request()` and
// `should_requeue_request()` as `null_queue_rq()` asks them, one driver copy's
// `null_timeout_attr` and `null_requeue_attr`, made from the disk's `timeout` and
// `requeue` attributes.
import type { Request } from '#blk-mq';
import type { DiskAttributes } from './disk-attributes';
import { type FaultAttr, faultAttrOf } from './fault-inject';

/** What an injected fault does to a request (`rnull_injected_faults_total{kind}`). */
export type RequestFaultKind = 'timeout' | 'requeue';

/** Every fault kind the metric counts: the request faults, and init_hctx (gendisk's). */
export const FAULT_KINDS = ['timeout', 'requeue', 'init_hctx'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * One driver's request fault_attrs.
 *
 * Contract: `decide(rq)` asks the timeout attr first and then the requeue attr, once each
 * per call, as null_queue_rq() does (so a request that is requeued also used a call of
 * the timeout attr); a requeue wins. The size each call takes from `space` is the
 * request's length in bytes (null_blk passes 1: its `space` counts calls). The counters
 * are this copy's: each process that runs the driver counts on its own, and they start
 * again when the attribute's text changes (only while the disk is powered off; DESIGN I11).
 */
export class RnullFaults {
  private timeoutText = '';
  private requeueText = '';
  private timeoutAttr?: FaultAttr;
  private requeueAttr?: FaultAttr;

  constructor(
    attributes: Pick<DiskAttributes, 'timeout' | 'requeue'>,
    private readonly random: () => number = Math.random,
  ) {
    this.follow(attributes);
  }

  /** True when either attr is set: otherwise `decide` is never asked (no cost per request). */
  get armed(): boolean {
    return this.timeoutAttr !== undefined || this.requeueAttr !== undefined;
  }

  /** Takes the attributes' fault_attrs, keeping the running state of an unchanged one. */
  follow(attributes: Pick<DiskAttributes, 'timeout' | 'requeue'>): void {
    if (attributes.timeout !== this.timeoutText) {
      this.timeoutText = attributes.timeout;
      this.timeoutAttr = faultAttrOf(attributes.timeout, this.random);
    }
    if (attributes.requeue !== this.requeueText) {
      this.requeueText = attributes.requeue;
      this.requeueAttr = faultAttrOf(attributes.requeue, this.random);
    }
  }

  /** The fault injected into `rq` this time, or undefined for none. */
  decide(rq: Pick<Request<unknown>, 'bytes'>): RequestFaultKind | undefined {
    const timeout = this.timeoutAttr?.shouldFail(rq.bytes) ?? false;
    if (this.requeueAttr?.shouldFail(rq.bytes)) return 'requeue';
    return timeout ? 'timeout' : undefined;
  }
}
