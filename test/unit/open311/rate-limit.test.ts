import { describe, expect, it } from 'vitest';
import { findClient, sha256Hex } from '#channels/open311/clients.ts';
import { TokenBuckets } from '#channels/open311/rate-limit.ts';

describe('Class: TokenBuckets', () => {
  it('should allow the burst, refuse with a retry time, and refill at the rate', () => {
    let t = 0;
    const b = new TokenBuckets(() => t);
    const rate = { perMinute: 30, burst: 3 };
    expect([1, 2, 3, 4].map(() => b.take('k', rate).ok)).toEqual([true, true, true, false]);
    expect(b.take('k', rate)).toEqual({ ok: false, retryAfterSec: 2 });
    t += 2000;
    expect(b.take('k', rate).ok).toBe(true);
    expect(b.take('other', rate).ok).toBe(true);
  });

  it('should stay bounded, dropping the least recently used bucket', () => {
    const b = new TokenBuckets(() => 0, 100);
    for (let i = 0; i < 1000; i++) b.take(`ip:${i}`, { perMinute: 1, burst: 1 });
    expect(b.size).toBe(100);
  });
});

describe('Function: findClient', () => {
  const clients = [
    { id: 'a', keySha256: sha256Hex('key-of-a-000000000'), rate: { perMinute: 1, burst: 1 } },
    { id: 'b', keySha256: sha256Hex('key-of-b-000000000'), rate: { perMinute: 1, burst: 1 } },
  ];
  it('should find the client of a key and nothing for others', () => {
    expect(findClient(clients, 'key-of-b-000000000')?.id).toBe('b');
    expect(findClient(clients, 'key-of-c-000000000')).toBeUndefined();
    expect(findClient(clients, '')).toBeUndefined();
    expect(findClient(clients, undefined)).toBeUndefined();
    expect(findClient(clients, 'x'.repeat(300))).toBeUndefined();
  });
});
