// Mirrors null_blk's `irqmode` values (enum { NULL_IRQ_NONE, NULL_IRQ_SOFTIRQ, NULL_IRQ_TIMER }).

/** Completion mode (`irqmode`): where a request's end is signalled. */
export enum IrqMode {
  /** End inline, from `queueRq` (NULL_IRQ_NONE). */
  None = 0,
  /** End from the softirq completion queue (NULL_IRQ_SOFTIRQ). */
  Soft = 1,
  /** End from a timer after `completionNsec` (NULL_IRQ_TIMER). */
  Timer = 2,
}
