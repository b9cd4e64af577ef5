// Mirrors null_blk's `should_init_hctx_fail()`: `null_init_hctx()` returns -EFAULT when
// the `init_hctx` fault_attr says so, which fails blk_mq_init_queue() (the power on) or
// blk_mq_update_nr_hw_queues() (a submit_queues increase, reverted). Here the disk's
// `init_hctx` attribute is asked in gendisk, the one process that powers disks on and
// reshapes them, before the tag space is laid out.
import { type DiskAttributes, type FaultAttr, faultAttrOf } from '#rnull';
import { InjectedFaultError, type Telemetry } from '#service-kit';

/**
 * The `init_hctx` fault_attrs of every disk, with their running state.
 *
 * Contract: `check` asks the disk's fault_attr once per hctx being set up, in index
 * order, with size 1 (as null_blk does), and throws `InjectedFaultError` naming
 * `init_hctx` at the first that fails, before anything is changed; each failure counts
 * in `rnull_injected_faults_total{disk,kind="init_hctx"}`. A disk's state (count, space,
 * times) lasts until its `init_hctx` text changes or the disk is deleted (`forget`).
 */
export class HctxInitFaults {
  private readonly attrs = new Map<string, { readonly text: string; readonly attr?: FaultAttr }>();

  constructor(
    private readonly tel: Telemetry = {},
    private readonly random?: () => number,
  ) {}

  /**
   * `null_init_hctx` for hctxs `from` .. `to - 1` of `disk` (none when `to <= from`);
   * `what` names the operation refused in the error ("power on", …).
   */
  check(disk: string, attributes: Pick<DiskAttributes, 'initHctx'>, from: number, to: number, what: string): void {
    const attr = this.attrOf(disk, attributes.initHctx);
    if (!attr) return;
    this.tel.metrics?.injectedFaults.inc({ disk, kind: 'init_hctx' }, 0);
    for (let h = from; h < to; h++) {
      if (!attr.shouldFail(1)) continue;
      this.tel.metrics?.injectedFaults.inc({ disk, kind: 'init_hctx' });
      this.tel.log?.info({ disk, hctx: h, what }, 'injected init_hctx fault');
      throw new InjectedFaultError(
        'init_hctx',
        `injected fault: hctx ${h} of disk ${JSON.stringify(disk)} failed to initialise (EFAULT); ${what} refused`,
      );
    }
  }

  /** Drops the state of a deleted disk. */
  forget(disk: string): void {
    this.attrs.delete(disk);
  }

  private attrOf(disk: string, text: string): FaultAttr | undefined {
    let entry = this.attrs.get(disk);
    if (!entry || entry.text !== text) {
      entry = { text, attr: faultAttrOf(text, this.random) };
      this.attrs.set(disk, entry);
    }
    return entry.attr;
  }
}
