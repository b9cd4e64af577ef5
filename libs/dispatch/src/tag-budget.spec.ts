// TagBudget without Redis (a counting fake of the budget script): spare units are reused
// without a round trip, two batches in flight never share a unit, a requeued tag keeps
// its unit, and spare units go back after SPARE_BUDGET_HOLD_MS (I1, I3).
import type { BudgetRelease } from '#redis-mq';
import type { OwnerLease } from './owner-lease';
import { SPARE_BUDGET_HOLD_MS, TagBudget } from './tag-budget';

/** The budget script's arithmetic for one owner: `depth` units in all, some held by others. */
class FakeBudget {
  used = 0;
  runs: { want: number; releases: readonly BudgetRelease[] }[] = [];
  constructor(private readonly depth: number) {}
  async take(_pool: number, want: number, releases: readonly BudgetRelease[]): Promise<number> {
    this.runs.push({ want, releases });
    for (const [, n] of releases) this.used -= n;
    const k = Math.min(want, this.depth - this.used);
    this.used += k;
    return k;
  }
}

function budget(depth: number) {
  const fake = new FakeBudget(depth);
  const lease = { alive: true, epoch: 7, lose: jest.fn() } as unknown as OwnerLease;
  const tags = new TagBudget({ nrHwQueues: 1, queueDepth: depth, sharedTagBitmap: false, recycle: 'on-drop' }, fake, lease);
  return { fake, tags };
}

afterEach(() => jest.useRealTimers());

it('takes budget once, then covers from the units its freed tags left', async () => {
  const { fake, tags } = budget(8);
  expect(await tags.cover(0, [0, 1, 2, 3])).toBe(4);
  for (const t of [0, 1, 2, 3]) tags.tagFreed(0, t);
  expect(await tags.cover(0, [4, 5, 6])).toBe(3);
  expect(fake.runs).toHaveLength(1);
  expect(fake.used).toBe(4);
  tags.close();
});

it('covers a prefix when the disk has no more budget, and never counts one unit twice', async () => {
  const { fake, tags } = budget(4);
  const [a, b] = await Promise.all([tags.cover(0, [0, 1, 2]), tags.cover(0, [3, 4, 5])]);
  expect(a + b).toBe(4);
  expect(fake.used).toBe(4);
  // A requeued request keeps its tag and its unit: covering it again takes nothing.
  expect(await tags.cover(0, [0])).toBe(1);
  expect(fake.runs).toHaveLength(2);
  tags.close();
});

it('gives spare units back SPARE_BUDGET_HOLD_MS after a tag was freed', async () => {
  jest.useFakeTimers();
  const { fake, tags } = budget(8);
  expect(await tags.cover(0, [0, 1, 2])).toBe(3);
  tags.tagFreed(0, 1);
  tags.tagFreed(0, 2);
  tags.tagFreed(0, 9); // never covered: not ours to give back
  await jest.advanceTimersByTimeAsync(SPARE_BUDGET_HOLD_MS + 1);
  expect(fake.runs.at(-1)).toEqual({ want: 0, releases: [[0, 2]] });
  expect(fake.used).toBe(1);
  tags.close();
});
