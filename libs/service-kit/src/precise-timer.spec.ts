// PreciseTimer on real time: due order, never early, lateness recorded. Delays are small
// and upper bounds loose, so a loaded machine makes it late, never red.
import { nowMsPrecise } from './batch-clock';
import { PreciseTimer } from './precise-timer';

/** Far more than any sane lateness; catches only a timer that waits for the wrong thing. */
const LOOSE_MS = 1000;

describe('PreciseTimer', () => {
  it('fires waiters in due order whatever order they were added in, never early', async () => {
    const timer = new PreciseTimer();
    const t0 = nowMsPrecise();
    const offsets = [12, 3, 20, 0.5, 7, 7, 1.2];
    const fired: { offset: number; at: number }[] = [];
    await Promise.all(offsets.map((offset) => timer.at(t0 + offset).then(() => fired.push({ offset, at: nowMsPrecise() }))));
    expect(fired.map((f) => f.offset)).toEqual([...offsets].sort((a, b) => a - b));
    for (const f of fired) {
      expect(f.at).toBeGreaterThanOrEqual(t0 + f.offset);
      expect(f.at - (t0 + f.offset)).toBeLessThan(LOOSE_MS);
    }
    expect(timer.pending).toBe(0);
  });

  it('records one lateness sample per firing, each >= 0', async () => {
    const timer = new PreciseTimer();
    const t0 = nowMsPrecise();
    await Promise.all([timer.at(t0 + 2), timer.at(t0 + 4), timer.at(t0 + 4)]);
    expect(timer.lateness).toHaveLength(3);
    for (const l of timer.lateness) {
      expect(l).toBeGreaterThanOrEqual(0);
      expect(l).toBeLessThan(LOOSE_MS);
    }
  });

  it('resolves a due time in the past at once, and counts its lateness', async () => {
    const timer = new PreciseTimer();
    const due = nowMsPrecise() - 50;
    const t = nowMsPrecise();
    await timer.at(due);
    expect(nowMsPrecise() - t).toBeLessThan(LOOSE_MS);
    expect(timer.lateness).toHaveLength(1);
    expect(timer.lateness[0]).toBeGreaterThanOrEqual(50);
  });

  it('a waiter added earlier than the armed one fires first', async () => {
    const timer = new PreciseTimer();
    const t0 = nowMsPrecise();
    const order: string[] = [];
    const late = timer.at(t0 + 400).then(() => order.push('late'));
    expect(timer.pending).toBe(1);
    const early = timer.at(t0 + 5).then(() => order.push('early'));
    expect(timer.pending).toBe(2);
    await early;
    expect(nowMsPrecise()).toBeGreaterThanOrEqual(t0 + 5);
    expect(order).toEqual(['early']);
    expect(timer.pending).toBe(1);
    await late;
    expect(nowMsPrecise()).toBeGreaterThanOrEqual(t0 + 400);
    expect(order).toEqual(['early', 'late']);
  });

  it('keeps sub-millisecond due times apart and in order', async () => {
    const timer = new PreciseTimer();
    const t0 = nowMsPrecise() + 3;
    const fired: number[] = [];
    await Promise.all(
      [0.6, 0.2, 0.4].map((d) =>
        timer.at(t0 + d).then(() => {
          expect(nowMsPrecise()).toBeGreaterThanOrEqual(t0 + d);
          fired.push(d);
        }),
      ),
    );
    expect(fired).toEqual([0.2, 0.4, 0.6]);
  });
});
