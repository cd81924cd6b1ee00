/**
 * Our own short-lived session for the mini-program, issued after code2Session proved the openid. WeChat's
 * session_key never leaves the server; the client holds only this HMAC-SHA256 token:
 * `wx1.<base64url(JSON {sub, iat, exp})>.<base64url(HMAC(secret, "wx1." + payload))>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { CityLoopError } from '#core/errors.ts';
import { fail, ok, type Result } from './result.ts';

const PREFIX = 'wx1';
const MAX_TOKEN_CHARS = 1024;
/** Tolerated clock difference between instances for `iat`. */
const IAT_SKEW_SECONDS = 60;

export interface SessionConfig {
  /** At least 32 bytes (e.g. from Secrets Manager). */
  secret: string | Uint8Array;
  /** Default 2 hours, like WeChat's own login state. */
  ttlSeconds?: number;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export interface Session {
  openid: string;
  /** Epoch seconds. */
  issuedAt: number;
  expiresAt: number;
}

const Payload = z.object({
  sub: z.string().check(z.minLength(1), z.maxLength(128)),
  iat: z.number().check(z.int(), z.gte(0)),
  exp: z.number().check(z.int(), z.gte(0)),
});

function secretBytes(config: SessionConfig): Buffer {
  const key = typeof config.secret === 'string' ? Buffer.from(config.secret, 'utf8') : Buffer.from(config.secret);
  if (key.length < 32)
    throw new CityLoopError('WECHAT_CONFIG_INVALID', 'session secret must be at least 32 bytes', 500);
  return key;
}

function mac(key: Buffer, signed: string): Buffer {
  return createHmac('sha256', key).update(signed, 'utf8').digest();
}

export function issueSessionToken(openid: string, config: SessionConfig): { token: string; session: Session } {
  const key = secretBytes(config);
  const ttl = config.ttlSeconds ?? 7200;
  const iat = Math.floor(config.now() / 1000);
  const session: Session = { openid, issuedAt: iat, expiresAt: iat + ttl };
  const payload = Payload.parse({ sub: openid, iat, exp: iat + ttl });
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  const signed = `${PREFIX}.${body}`;
  return { token: `${signed}.${mac(key, signed).toString('base64url')}`, session };
}

/** INVALID_SESSION (401) for anything not signed by us, SESSION_EXPIRED (401) once past `exp`. */
export function verifySessionToken(token: string, config: SessionConfig): Result<Session> {
  const key = secretBytes(config);
  const invalid = () => fail<Session>(new CityLoopError('INVALID_SESSION', 'session token is not valid', 401));
  if (token.length > MAX_TOKEN_CHARS) return invalid();
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return invalid();
  const [, body = '', sig = ''] = parts;
  if (!/^[A-Za-z0-9_-]+$/.test(body) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return invalid();
  const expected = mac(key, `${PREFIX}.${body}`);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return invalid();
  }
  const parsed = Payload.safeParse(json);
  if (!parsed.success) return invalid();
  const now = Math.floor(config.now() / 1000);
  const { sub, iat, exp } = parsed.data;
  if (iat > now + IAT_SKEW_SECONDS) return invalid();
  if (now >= exp) return fail(new CityLoopError('SESSION_EXPIRED', 'session expired, log in again', 401));
  return ok({ openid: sub, issuedAt: iat, expiresAt: exp });
}

/** The token from an `Authorization: Bearer …` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer\s+(\S{1,1024})$/i.exec(header.trim());
  return m?.[1];
}
