/**
 * How a citizen proves a tracking number is theirs, without an account:
 * - a token: HMAC-SHA256(secret, tracking number), 22 base64url characters (132 bits), sent in every notice link
 *   (dispatch, follow-up, closure) on the citizen's own channel (SMS, email, WeChat). Unguessable and stateless
 *   (nothing stored, nothing to leak from the table); it is what lets a citizen ACT (add information, answer 回访);
 * - or the last 4 digits of the phone of the report: what a hotline caller can type on the page next to the tracking
 *   number read out on the phone. Only 10⁴ guesses, so it opens the VIEW only (texts, attachments, due time), is
 *   compared in constant time, and needs API Gateway throttling / a WAF rate rule on `/api/requests/*`.
 * The tracking number alone (sequential, guessable) shows only the steps and statuses, never free text. A citizen
 * without the link can still act through the hotline: an agent may add information or record the follow-up.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Citizen } from '../intake/schema.ts';

export const CITIZEN_TOKEN_LENGTH = 22;

export function citizenToken(secret: string, trackingNo: string): string {
  return createHmac('sha256', secret)
    .update(`cityloop-citizen:${trackingNo}`)
    .digest('base64url')
    .slice(0, CITIZEN_TOKEN_LENGTH);
}

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function verifyCitizenToken(secret: string | undefined, trackingNo: string, token: string | undefined): boolean {
  if (!secret || typeof token !== 'string' || token.length !== CITIZEN_TOKEN_LENGTH) return false;
  return sameText(citizenToken(secret, trackingNo), token);
}

/** True when `last4` is exactly four digits and the report's phone ends with them. */
export function phoneLast4Matches(citizen: Citizen | undefined, last4: string | undefined): boolean {
  if (typeof last4 !== 'string' || !/^\d{4}$/.test(last4)) return false;
  const digits = (citizen?.phone ?? '').replace(/\D/g, '');
  if (digits.length < 7) return false;
  return sameText(digits.slice(-4), last4);
}

export type CitizenProof = { token?: string | undefined; phoneLast4?: string | undefined };

export type ProofResult = 'none' | 'valid' | 'invalid';

/** `none` when nothing was presented; `valid` when either proof matches; `invalid` otherwise. */
export function checkCitizenProof(
  proof: CitizenProof,
  trackingNo: string,
  citizen: Citizen | undefined,
  secret: string | undefined,
): ProofResult {
  const token = proof.token?.trim() || undefined;
  const last4 = proof.phoneLast4?.trim() || undefined;
  if (token === undefined && last4 === undefined) return 'none';
  if (token !== undefined && verifyCitizenToken(secret, trackingNo, token)) return 'valid';
  if (last4 !== undefined && phoneLast4Matches(citizen, last4)) return 'valid';
  return 'invalid';
}
