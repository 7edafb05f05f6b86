import { TokenBucketStorage } from './token-bucket.storage';

describe('TokenBucketStorage', () => {
  it('lets a burst of `limit` through, then refills continuously at limit per ttl', () => {
    let now = 0;
    const bucket = new TokenBucketStorage(() => now);
    // 4 tokens, full again after 2000 ms: one token every 500 ms.
    const take = (key = 'k') => bucket.take(key, 2000, 4);
    expect([1, 2, 3, 4].map(() => take().isBlocked)).toEqual([false, false, false, false]);
    const blocked = take();
    expect(blocked).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    now += 499;
    expect(take().isBlocked).toBe(true);
    now += 2;
    expect(take().isBlocked).toBe(false);
    expect(take().isBlocked).toBe(true);
    // Another key has its own bucket.
    expect(take('other').isBlocked).toBe(false);
    // Idle time never fills past the bucket size.
    now += 60_000;
    expect([1, 2, 3, 4, 5].map(() => take().isBlocked)).toEqual([false, false, false, false, true]);
  });
});
