/**
 * Per-client rate limits as token buckets: `burst` requests at once, refilled at `perMinute`. One instance per
 * Lambda container, so on AWS the limit holds per container (see functions/open311/config.ts for what that means).
 * The map is bounded: past `maxKeys` buckets the least recently used one is dropped (a full bucket again, which only
 * ever errs towards letting a client through).
 */
import type { Rate } from './clients.ts';

export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterSec: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  take(key: string, rate: Rate, cost = 1): TakeResult {
    const t = this.now();
    const perMs = rate.perMinute / 60_000;
    const prev = this.buckets.get(key);
    const elapsed = prev ? Math.max(0, t - prev.at) : 0;
    const tokens = prev ? Math.min(rate.burst, prev.tokens + elapsed * perMs) : rate.burst;
    // Re-insert so iteration order is least recently used first.
    this.buckets.delete(key);
    if (tokens < cost) {
      this.buckets.set(key, { tokens, at: t });
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil((cost - tokens) / perMs / 1000)) };
    }
    this.buckets.set(key, { tokens: tokens - cost, at: t });
    while (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
    return { ok: true, remaining: Math.floor(tokens - cost) };
  }

  get size(): number {
    return this.buckets.size;
  }
}
