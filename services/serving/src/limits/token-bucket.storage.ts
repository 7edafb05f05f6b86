import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Bucket {
  tokens: number;
  /** ms timestamp of the last refill. */
  at: number;
}

/**
 * A token bucket behind @nestjs/throttler's storage interface, so its guard
 * (REST) and the gRPC interceptor share one limit per key. `limit` is the
 * bucket size (burst) and `ttl` (ms) the time to refill it completely, so
 * tokens come back continuously at limit/ttl per ms. The package's default
 * storage is a sliding log with one timer per hit, and its timers are kept
 * per throttler name rather than per key (unblocking one key clears another
 * key's expiries); this one is O(1) per request with no timers. Idle buckets
 * are pruned when the map grows.
 */
export class TokenBucketStorage implements ThrottlerStorage {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    return this.take(key, ttl, limit);
  }

  /** Synchronous form (gRPC). */
  take(key: string, ttl: number, limit: number): ThrottlerStorageRecord {
    const now = this.now();
    const perMs = limit / ttl;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 50_000) this.prune(now, ttl);
      b = { tokens: limit, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(limit, b.tokens + (now - b.at) * perMs);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { totalHits: Math.ceil(limit - b.tokens), timeToExpire: Math.ceil((limit - b.tokens) / perMs / 1000), isBlocked: false, timeToBlockExpire: 0 };
    }
    // Seconds until one token is back (Retry-After), at least 1.
    const wait = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    return { totalHits: limit + 1, timeToExpire: wait, isBlocked: true, timeToBlockExpire: wait };
  }

  private prune(now: number, ttl: number): void {
    for (const [key, b] of this.buckets) if (now - b.at > ttl) this.buckets.delete(key);
  }
}
