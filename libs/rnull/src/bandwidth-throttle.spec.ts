// The throttle: refusals stop the hctx's queue, one timer starts it again at the next tick.
import { Hctx, HwQueueStops } from '#blk-mq';
import type { BandwidthBudget, BandwidthVerdict } from './bandwidth-budget';
import { BandwidthThrottle } from './bandwidth-throttle';

/** A budget that answers what the test sets. */
class ScriptedBudget implements BandwidthBudget {
  verdicts: BandwidthVerdict[] = [];
  readonly asked: number[][] = [];
  take(_perTick: number, _tickMs: number, bytes: readonly number[]): BandwidthVerdict {
    this.asked.push([...bytes]);
    return this.verdicts.shift() ?? { admitted: bytes.length, msToNextTick: 20 };
  }
}

describe('BandwidthThrottle', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('admits a whole batch the budget covers and leaves the queue running', async () => {
    const budget = new ScriptedBudget();
    const queue = new HwQueueStops<number>(1, () => undefined);
    const throttle = new BandwidthThrottle(budget);
    expect(await throttle.admit(new Hctx(0, 1, queue), 5, [4096, 4096])).toBe(2);
    expect(budget.asked).toEqual([[4096, 4096]]);
    expect(queue.isStopped(0)).toBe(false);
  });

  it('stops the queue on a refusal and starts it again at the next tick, reporting both', async () => {
    const budget = new ScriptedBudget();
    budget.verdicts.push({ admitted: 1, msToNextTick: 7 }, { admitted: 0, msToNextTick: 3 });
    const ran: number[][] = [];
    const queue = new HwQueueStops<number>(2, (_h, b) => ran.push(b));
    const refused: number[] = [];
    const ended: number[] = [];
    let clock = 0;
    const throttle = new BandwidthThrottle(budget, { throttled: (n) => refused.push(n), throttleEnded: (s) => ended.push(s) }, () => clock);
    expect(await throttle.admit(new Hctx(0, 2, queue), 5, [4096, 4096, 4096])).toBe(1);
    expect(queue.isStopped(0) && queue.isStopped(1)).toBe(true);
    // A second refusal before the tick arms no second timer.
    expect(await throttle.admit(new Hctx(1, 2, queue), 5, [4096])).toBe(0);
    expect(refused).toEqual([2, 1]);
    queue.dispatch(0, [1]);
    clock = 6;
    jest.advanceTimersByTime(6);
    expect(queue.isStopped(0)).toBe(true);
    clock = 7;
    jest.advanceTimersByTime(1);
    expect(queue.isStopped(0)).toBe(false);
    expect(ended).toEqual([0.007]);
    jest.runOnlyPendingTimers(); // the queue run is scheduled (setImmediate)
    expect(ran).toEqual([[1]]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
