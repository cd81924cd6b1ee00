import { describe, expect, it } from 'vitest';
import type { Result } from '#channels/wechat/result.ts';
import { bearerToken, issueSessionToken, type SessionConfig, verifySessionToken } from '#channels/wechat/session.ts';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const T0 = Date.UTC(2025, 0, 1, 2, 0, 0);

function at(ms: number, secret = SECRET): SessionConfig {
  return { secret, now: () => ms, ttlSeconds: 3600 };
}

function code<T>(r: Result<T>): string {
  if (r.ok) throw new Error('expected a rejection');
  expect(r.error.status).toBe(401);
  return r.error.code;
}

describe('Function: issueSessionToken / verifySessionToken', () => {
  it('should issue a token that verifies to the openid until it expires', () => {
    // Prepare
    const { token, session } = issueSessionToken('oABC', at(T0));

    // Act
    const r = verifySessionToken(token, at(T0 + 3599_000));

    // Assess
    expect(token.startsWith('wx1.')).toBe(true);
    expect(session).toEqual({ openid: 'oABC', issuedAt: T0 / 1000, expiresAt: T0 / 1000 + 3600 });
    expect(r).toEqual({ ok: true, value: session });
  });

  it('should refuse an expired token with SESSION_EXPIRED', () => {
    // Prepare
    const { token } = issueSessionToken('oABC', at(T0));

    // Act
    const r = verifySessionToken(token, at(T0 + 3600_000));

    // Assess
    expect(code(r)).toBe('SESSION_EXPIRED');
  });

  it('should refuse a token issued in the future (beyond clock skew) with INVALID_SESSION', () => {
    // Prepare
    const { token } = issueSessionToken('oABC', at(T0 + 120_000));

    // Act
    const r = verifySessionToken(token, at(T0));

    // Assess
    expect(code(r)).toBe('INVALID_SESSION');
  });

  it('should refuse a token signed with another secret', () => {
    // Prepare
    const { token } = issueSessionToken('oABC', at(T0, 'another-secret-of-at-least-32-bytes!'));

    // Act
    const r = verifySessionToken(token, at(T0));

    // Assess
    expect(code(r)).toBe('INVALID_SESSION');
  });

  it('should refuse a token whose payload was swapped for another openid', () => {
    // Prepare
    const mine = issueSessionToken('oMINE', at(T0)).token.split('.');
    const theirs = issueSessionToken('oTHEIRS', at(T0)).token.split('.');

    // Act
    const r = verifySessionToken(`${mine[0]}.${theirs[1]}.${mine[2]}`, at(T0));

    // Assess
    expect(code(r)).toBe('INVALID_SESSION');
  });

  it.each([
    ['empty', ''],
    ['garbage', 'hello'],
    ['wrong prefix', 'wx2.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['four parts', 'wx1.a.b.c'],
    ['huge', `wx1.${'a'.repeat(5000)}.b`],
    ['bad base64 chars', 'wx1.a+b.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('should refuse a %s token', (_what, token) => {
    // Act
    const r = verifySessionToken(token, at(T0));

    // Assess
    expect(code(r)).toBe('INVALID_SESSION');
  });

  it('should refuse a short secret as a configuration error', () => {
    // Assess
    expect(() => issueSessionToken('o', at(T0, 'short'))).toThrow('32 bytes');
    expect(() => verifySessionToken('x', at(T0, 'short'))).toThrow('32 bytes');
  });
});

describe('Function: bearerToken', () => {
  it('should extract the token of a Bearer header only', () => {
    // Assess
    expect(bearerToken('Bearer wx1.a.b')).toBe('wx1.a.b');
    expect(bearerToken('bearer   wx1.a.b ')).toBe('wx1.a.b');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
  });
});
