/**
 * Citizen data (phone, email, openid, name) is personal: masked in logs and in anything shown to other people,
 * and reduced to a keyed digest where it only serves as a lookup key.
 */
import { createHash } from 'node:crypto';
import type { Citizen } from './intake/schema.ts';

/** A stable lookup key for "the same citizen": the phone, else the openid, else the email, as a digest. */
export function citizenKey(c: Citizen | undefined): string | undefined {
  const id = c?.phone
    ? `tel:${c.phone}`
    : c?.openid
      ? `wx:${c.openid}`
      : c?.email
        ? `mail:${c.email.toLowerCase()}`
        : '';
  return id ? createHash('sha256').update(id).digest('base64url').slice(0, 22) : undefined;
}

export function maskPhone(p: string): string {
  return p.length > 7 ? `${p.slice(0, p.length - 8)}****${p.slice(-4)}` : '****';
}

export function maskEmail(e: string): string {
  const at = e.indexOf('@');
  return at > 0 ? `${e[0]}***${e.slice(at)}` : '***';
}

export function maskName(n: string): string {
  const chars = [...n];
  return chars.length <= 1 ? '*' : `${chars[0]}${'*'.repeat(Math.min(chars.length - 1, 3))}`;
}

export function maskCitizen(c: Citizen): Citizen {
  return {
    ...(c.name ? { name: maskName(c.name) } : {}),
    ...(c.phone ? { phone: maskPhone(c.phone) } : {}),
    ...(c.email ? { email: maskEmail(c.email) } : {}),
    ...(c.openid ? { openid: `${c.openid.slice(0, 4)}***` } : {}),
    ...(c.anonymous ? { anonymous: true } : {}),
  };
}

const PHONE_IN_TEXT = /(?<!\d)(\+?86)?1[3-9]\d{9}(?!\d)/g;
const EMAIL_IN_TEXT = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;

/** Masks phone numbers and email addresses inside free text (for logs). */
export function maskText(s: string): string {
  return s.replace(PHONE_IN_TEXT, (m) => maskPhone(m)).replace(EMAIL_IN_TEXT, (m) => maskEmail(m));
}
