// Mirrors lib/fault-inject.c: `struct fault_attr`, `setup_fault_attr()` (the
// "<interval>,<probability>,<space>,<times>" string null_blk takes for its `timeout`,
// `requeue` and `init_hctx` module parameters) and `should_fail()`.

/** The four numbers of a fault_attr, as `setup_fault_attr()` reads them. */
export interface FaultConfig {
  /** Fail at most one of every `interval` eligible calls (1: any of them). */
  readonly interval: number;
  /** Chance in percent, 0..100, that an eligible call fails. */
  readonly probability: number;
  /** Bytes that pass before any call is eligible: each call's size is taken from it first. */
  readonly space: number;
  /** Failures left; -1 for no limit. */
  readonly times: number;
}

/** The largest `space` and `times` (the kernel keeps them in an `atomic_t`). */
const INT_MAX = 0x7fff_ffff;

/**
 * Parses "<interval>,<probability>,<space>,<times>" (decimal; spaces around the commas
 * allowed). '' is no fault_attr (the parameter left unset). Throws `RangeError` saying
 * what is wrong; the caller names the attribute. Stricter than the kernel's `sscanf`,
 * which takes trailing junk and any probability: interval >= 1, probability 0..100,
 * space >= 0, times >= -1.
 */
export function parseFaultConfig(text: string): FaultConfig | undefined {
  if (text.trim() === '') return undefined;
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 4 || parts.some((p) => !/^-?\d+$/.test(p))) {
    throw new RangeError(`must be "<interval>,<probability>,<space>,<times>" (four whole numbers), got ${JSON.stringify(text)}`);
  }
  const [interval, probability, space, times] = parts.map(Number);
  if (interval < 1 || interval > INT_MAX) throw new RangeError(`interval must be in 1..${INT_MAX}, got ${interval}`);
  if (probability < 0 || probability > 100) throw new RangeError(`probability must be a percentage in 0..100, got ${probability}`);
  if (space < 0 || space > INT_MAX) throw new RangeError(`space must be in 0..${INT_MAX} bytes, got ${space}`);
  if (times < -1 || times > INT_MAX) throw new RangeError(`times must be -1 (no limit) or in 0..${INT_MAX}, got ${times}`);
  return { interval, probability, space, times };
}

/** The canonical text of a fault_attr ('' for none): what the disk record stores and shows. */
export function formatFaultConfig(config: FaultConfig | undefined): string {
  return config ? `${config.interval},${config.probability},${config.space},${config.times}` : '';
}

/**
 * One fault_attr and its running state (`count`, `space`, `times`).
 *
 * Contract: `shouldFail(size)` follows `should_fail_ex()` step by step: no failure while
 * probability is 0 or no times are left; while `space` exceeds `size`, `size` is taken
 * from it and the call passes; with interval > 1 only every interval-th call that got
 * this far is eligible; an eligible call fails with `probability` percent; a failure
 * takes one of `times` (unless -1). The state is this object's: every copy counts alone.
 */
export class FaultAttr {
  private count = 0;
  private space: number;
  private times: number;

  constructor(
    readonly config: FaultConfig,
    /** A number in [0, 1), as `Math.random` (the kernel's prandom). */
    private readonly random: () => number = Math.random,
  ) {
    this.space = config.space;
    this.times = config.times;
  }

  /** Failures still allowed (-1: no limit). */
  get timesLeft(): number {
    return this.times;
  }

  /** Bytes still to pass before calls become eligible. */
  get spaceLeft(): number {
    return this.space;
  }

  /** `should_fail(attr, size)`: true when this call is to fail. */
  shouldFail(size: number): boolean {
    const { interval, probability } = this.config;
    if (probability === 0) return false;
    if (this.times === 0) return false;
    if (this.space > size) {
      this.space -= size;
      return false;
    }
    if (interval > 1) {
      this.count += 1;
      if (this.count % interval !== 0) return false;
    }
    // `probability <= get_random_u32_below(100)`: passes when the draw is at or above it.
    if (probability <= Math.floor(this.random() * 100)) return false;
    if (this.times !== -1) this.times -= 1;
    return true;
  }
}

/** A fault_attr for `text`, or undefined when it is '' (none). */
export function faultAttrOf(text: string, random?: () => number): FaultAttr | undefined {
  const config = parseFaultConfig(text);
  return config ? new FaultAttr(config, random) : undefined;
}
