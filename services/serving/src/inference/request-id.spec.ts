import { newRequestId } from './request-id';

describe('newRequestId', () => {
  it('is a version 7 UUID (RFC 9562 layout, variant 10xx)', () => {
    for (let i = 0; i < 5000; i++) expect(newRequestId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('starts with the current time in milliseconds', () => {
    const before = Date.now();
    const id = newRequestId();
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });

  it('never repeats, and sorts in the order ids were made', () => {
    const ids = Array.from({ length: 100_000 }, () => newRequestId());
    expect(new Set(ids).size).toBe(ids.length);
    // Within one process the counter only wraps after 2^24 ids, so the order holds across this run.
    const sorted = [...ids].sort();
    const wrapped = ids.findIndex((id, i) => i > 0 && id < ids[i - 1]);
    if (wrapped < 0) expect(sorted).toEqual(ids);
    else {
      expect(ids.slice(0, wrapped)).toEqual([...ids.slice(0, wrapped)].sort());
      expect(ids.slice(wrapped)).toEqual([...ids.slice(wrapped)].sort());
    }
  });
});
