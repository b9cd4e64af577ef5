// The first-touch probe: CPU per fresh 4 KiB page, and its refusal of regions glibc might
// serve from memory already touched.
import { firstTouchUsPerPage } from './first-touch';

describe('firstTouchUsPerPage', () => {
  it('charges a positive CPU time to each fresh page', () => {
    const us = firstTouchUsPerPage(48);
    expect(Number.isFinite(us)).toBe(true);
    expect(us).toBeGreaterThan(0);
  });

  it('refuses a region small enough to come from reused heap', () => {
    expect(() => firstTouchUsPerPage(16)).toThrow(/16 MiB may reuse touched memory/);
  });
});
