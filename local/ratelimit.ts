/**
 * The local stack's stand-in for API Gateway stage throttling, per client: a token bucket keyed by the caller's
 * API key when it is a known one, else by the client's address (the socket's, never a header a client can forge).
 * Keying unknown keys by address means rotating made-up keys buys no extra requests.
 * On AWS the HTTP API stage throttles (infra/stack.ts `throttle`); per-citizen limits on intake are
 * `core/intake/limits.ts`.
 *
 * Config: `LocalStackOptions.rateLimit`, or env `CITYLOOP_RATE_LIMIT` = `<requests per second>,<burst>` or `off`;
 * default 100/s with a burst of 200 per client (a person, a test suite or an import on one machine stays under it;
 * clients retry a 429 after its Retry-After).
 */
import type { IncomingMessage } from 'node:http';

export interface RateLimitOptions {
  /** Tokens added per second. */
  ratePerSec: number;
  /** Bucket size: requests allowed at once after a quiet period. */
  burst: number;
  /** Buckets kept at most (the fullest are dropped first: a full bucket is the same as a new one). */
  maxKeys?: number;
  now?: () => number;
}

export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterSec: number };

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { ratePerSec: 100, burst: 200 };

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: RateLimitOptions) {
    if (!(opts.ratePerSec > 0) || !(opts.burst >= 1))
      throw new RangeError('rate limit needs ratePerSec > 0, burst ≥ 1');
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  take(key: string, cost = 1): TakeResult {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    const tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.ratePerSec);
    if (tokens < cost) {
      this.buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil((cost - tokens) / this.opts.ratePerSec)) };
    }
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - cost, at: now });
    if (this.buckets.size > this.maxKeys) this.evict(now);
    return { ok: true, remaining: Math.floor(tokens - cost) };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets that have refilled (they equal a fresh one), then the least recently used. */
  private evict(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.opts.ratePerSec >= this.opts.burst) this.buckets.delete(k);
    }
    while (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }
}

/** The credential a request presents (`x-api-key` or `Authorization: Bearer`), if any. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const k = req.headers['x-api-key'];
  if (typeof k === 'string' && k !== '') return k;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7).trim() || undefined : undefined;
}

/** `key:<key>` for a known API key, else `ip:<socket address>`. */
export function clientKey(req: IncomingMessage, isKnownKey: (key: string) => boolean): string {
  const key = presentedKey(req);
  if (key && isKnownKey(key)) return `key:${key}`;
  return `ip:${req.socket.remoteAddress ?? 'unknown'}`;
}

/** `CITYLOOP_RATE_LIMIT`: `off`, or `<rate>,<burst>`; anything else is an error (a typo must not turn limits off). */
export function rateLimitFromEnv(value: string | undefined): RateLimitOptions | false {
  if (value === undefined || value.trim() === '') return DEFAULT_RATE_LIMIT;
  if (value.trim().toLowerCase() === 'off') return false;
  const [rate, burst] = value.split(',').map((x) => Number(x.trim()));
  if (!rate || !(rate > 0) || !burst || !(burst >= 1)) {
    throw new Error(`CITYLOOP_RATE_LIMIT must be "off" or "<requests per second>,<burst>", not "${value}"`);
  }
  return { ratePerSec: rate, burst };
}

/** The 429 answer, shaped like the API's other refusals. */
export function rateLimitedBody(retryAfterSec: number): string {
  return JSON.stringify({
    error: {
      code: 'RATE_LIMITED',
      message: `请求过于频繁，请 ${retryAfterSec} 秒后再试 too many requests, retry after ${retryAfterSec} s`,
    },
  });
}
