/**
 * Rate limits: the local stack's per-client token bucket (API Gateway stage throttling stands in for it on AWS) and
 * the per-citizen intake limit (core/intake/limits.ts).
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CityLoopError } from '#core/errors.ts';
import { idemKeyOf } from '#core/intake/accept.ts';
import { decideCitizenLimit, enforceCitizenLimit, windowFor } from '#core/intake/limits.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import { clientKey, rateLimitFromEnv, TokenBucketLimiter } from '#local/ratelimit.ts';

describe('Class: TokenBucketLimiter', () => {
  it('should allow the burst, refuse the next with a Retry-After, and refill at the rate', () => {
    // Prepare
    let now = 0;
    const limiter = new TokenBucketLimiter({ ratePerSec: 2, burst: 3, now: () => now });
    // Act + Assess
    expect([1, 2, 3].map(() => limiter.take('ip:1').ok)).toEqual([true, true, true]);
    expect(limiter.take('ip:1')).toEqual({ ok: false, retryAfterSec: 1 });
    expect(limiter.take('ip:2').ok).toBe(true);
    now = 500;
    expect(limiter.take('ip:1').ok).toBe(true);
    expect(limiter.take('ip:1').ok).toBe(false);
  });

  it('should keep at most maxKeys buckets (memory is bounded under a flood of addresses)', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ ratePerSec: 1, burst: 2, maxKeys: 100, now: () => now });
    for (let i = 0; i < 1000; i++) {
      limiter.take(`ip:${i}`);
      now += 1;
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  it('should key by a known API key, and by the socket address otherwise (forged headers and keys buy nothing)', () => {
    const req = (headers: Record<string, string>, ip = '127.0.0.9') =>
      ({ headers, socket: { remoteAddress: ip } }) as unknown as IncomingMessage;
    const known = (k: string) => k === 'local-agent-001';
    expect(clientKey(req({ 'x-api-key': 'local-agent-001' }), known)).toBe('key:local-agent-001');
    expect(clientKey(req({ authorization: 'Bearer local-agent-001' }), known)).toBe('key:local-agent-001');
    expect(clientKey(req({ 'x-api-key': 'made-up-1' }), known)).toBe('ip:127.0.0.9');
    expect(clientKey(req({ 'x-forwarded-for': '10.1.2.3' }), known)).toBe('ip:127.0.0.9');
  });

  it('should read CITYLOOP_RATE_LIMIT strictly', () => {
    expect(rateLimitFromEnv(undefined)).toEqual({ ratePerSec: 100, burst: 200 });
    expect(rateLimitFromEnv('off')).toBe(false);
    expect(rateLimitFromEnv('5, 10')).toEqual({ ratePerSec: 5, burst: 10 });
    expect(() => rateLimitFromEnv('fast')).toThrow(/CITYLOOP_RATE_LIMIT/);
    expect(() => rateLimitFromEnv('0,10')).toThrow();
  });
});

const NOW = new Date('2025-11-28T12:00:00+08:00');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

function request(extra: Partial<IntakeRequest> = {}): IntakeRequest {
  return {
    channel: 'web',
    channelMessageId: `key:${Math.random()}`,
    receivedAt: NOW.toISOString(),
    citizen: { phone: '+8613912345678' },
    title: '路灯不亮',
    text: '和平路88号路灯坏了',
    ...extra,
  };
}

class History {
  reports: StoredReport[] = [];
  reads = 0;
  add(r: IntakeRequest, acceptedAt: string) {
    this.reports.push({
      trackingNo: String(this.reports.length),
      idemKey: idemKeyOf(r),
      request: r,
      acceptedAt,
    } as StoredReport);
  }
  async getReportByIdemKey(k: string) {
    return this.reports.find((r) => r.idemKey === k);
  }
  async listReportsOfCitizen(key: string, limit = 20) {
    this.reads++;
    return this.reports
      .filter((r) => citizenKey(r.request.citizen) === key)
      .sort((a, b) => b.acceptedAt.localeCompare(a.acceptedAt))
      .slice(0, limit);
  }
}

describe('Function: per-citizen intake limits', () => {
  it('should refuse the (perHour+1)-th report of an hour, with the wait until the oldest leaves the window', () => {
    const times = Array.from({ length: 10 }, (_, i) => minutesAgo(50 - i));
    const d = decideCitizenLimit(times, NOW, { perHour: 10, perDay: 30 });
    expect(d).toEqual({ ok: false, window: 'hour', limit: 10, count: 10, retryAfterSec: 600 });
    expect(decideCitizenLimit(times.slice(1), NOW, { perHour: 10, perDay: 30 })).toMatchObject({ ok: true, hour: 9 });
  });

  it('should apply the day window too, and ignore reports older than a day or in the future', () => {
    const times = [...Array.from({ length: 5 }, (_, i) => minutesAgo(120 + i)), minutesAgo(25 * 60), 'not a date'];
    expect(decideCitizenLimit(times, NOW, { perHour: 10, perDay: 5 })).toMatchObject({
      ok: false,
      window: 'day',
      count: 5,
    });
    expect(
      decideCitizenLimit([new Date(NOW.getTime() + 60_000).toISOString()], NOW, { perHour: 1, perDay: 1 }).ok,
    ).toBe(true);
  });

  it('should throw a 429 CITIZEN_RATE_LIMITED for a new submission over the limit', async () => {
    const h = new History();
    for (let i = 0; i < 10; i++) h.add(request(), minutesAgo(30 - i));
    const e = await enforceCitizenLimit(h, request(), NOW).catch((x) => x);
    expect(e).toBeInstanceOf(CityLoopError);
    expect(e).toMatchObject({ code: 'CITIZEN_RATE_LIMITED', status: 429, details: { window: 'hour', limit: 10 } });
  });

  it('should never refuse the same submission again, an anonymous report, or the hotline', async () => {
    const h = new History();
    const again = request();
    h.add(again, minutesAgo(1));
    for (let i = 0; i < 40; i++) h.add(request(), minutesAgo(2 + i));
    await expect(enforceCitizenLimit(h, again, NOW)).resolves.toBeUndefined();
    await expect(enforceCitizenLimit(h, request({ citizen: { anonymous: true } }), NOW)).resolves.toBeUndefined();
    await expect(enforceCitizenLimit(h, request({ channel: 'hotline' }), NOW)).resolves.toBeUndefined();
    expect(windowFor('hotline')).toBeUndefined();
    expect(windowFor('wechat', { perHour: 1, perDay: 2, channels: { wechat: { perHour: 3, perDay: 4 } } })).toEqual({
      perHour: 3,
      perDay: 4,
    });
    // Another contact is counted apart.
    await expect(
      enforceCitizenLimit(h, request({ citizen: { email: 'a@example.com' } }), NOW),
    ).resolves.toBeUndefined();
  });
});
