import type { FastifyRateLimitStore } from '@fastify/rate-limit';

/** How many buckets a process keeps at most (the library's own store keeps 5,000). */
const MAX_BUCKETS = 10_000;

/**
 * A fixed window per bucket, as @fastify/rate-limit's own LocalStore counts, but each
 * request is answered with its own count. LocalStore answers every request with the one
 * object it keeps per bucket, which the plugin reads only after an await: a burst from
 * one key arriving together was counted right and then all read the burst's final count,
 * so all of it was refused, the requests within the limit too.
 */
export class WindowStore implements FastifyRateLimitStore {
  private readonly buckets = new Map<string, { count: number; startedAt: number }>();

  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
  ): void {
    const now = Date.now();
    let bucket = this.buckets.get(key);
    if (!bucket || now - bucket.startedAt >= timeWindow) {
      if (bucket) this.buckets.delete(key);
      else if (this.buckets.size >= MAX_BUCKETS) {
        // The first bucket is the one whose window started longest ago.
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      bucket = { count: 0, startedAt: now };
      this.buckets.set(key, bucket);
    }
    bucket.count++;
    callback(null, { current: bucket.count, ttl: timeWindow - (now - bucket.startedAt) });
  }

  child(): FastifyRateLimitStore {
    return this;
  }
}
