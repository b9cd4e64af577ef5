// The harness' progress display on stderr: which step of how many is running, and the
// live IOPS of the current run — rewritten in place on a TTY, one line per update otherwise.
import type { LoadProgress } from '../../rnullctl/src/load-generator';

export interface ProgressSink {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

export class BenchProgress {
  private step = 0;
  private current = '';
  private live = false;
  private readonly started = Date.now();

  constructor(
    private readonly out: ProgressSink,
    private total = 0,
  ) {}

  /** Adds `n` steps to the total shown as `i/N`. */
  plan(n: number): void {
    this.total += n;
  }

  /** Starts the next step; prints `[i/N mm:ss] what`. */
  begin(what: string): void {
    this.step += 1;
    this.current = `[${this.step}/${this.total} ${this.clock()}] ${what}`;
    this.line(this.current, false);
  }

  /** A live figure of the current step (in place on a TTY). */
  update(text: string): void {
    this.line(`${this.current}  ${text}`, true);
  }

  /** The gRPC load generator's progress as `N IOPS, qd k`. */
  load(p: LoadProgress): void {
    const s = Number(p.intervalNs) / 1e9;
    this.update(`${s > 0 ? Math.round(p.intervalIos / s) : 0} IOPS, ${p.ios} IOs, ${p.inFlight} in flight`);
  }

  /** A note that is not a step (skips, failures, phases). */
  note(text: string): void {
    this.line(`  ${text}`, false);
  }

  finish(): void {
    if (this.live && this.out.isTTY) this.out.write('\n');
    this.live = false;
  }

  private line(text: string, live: boolean): void {
    if (this.out.isTTY) {
      this.out.write(`${this.live ? '\r\x1b[K' : ''}${text}${live ? '' : '\n'}`);
      this.live = live;
    } else {
      this.out.write(`${text}\n`);
    }
  }

  private clock(): string {
    const s = Math.floor((Date.now() - this.started) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }
}
