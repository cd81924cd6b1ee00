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

// Mobiles and landlines with an area code, as citizens write them: `13912345678`, `+86 139 1234 5678`,
// `139-1234-5678`, `0755-12345678`, `(0755) 12345678` (not inside a longer number such as a tracking number).
const PHONE_IN_TEXT = /(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?!\d)/g;
const LANDLINE_IN_TEXT = /(?<![\d+])(?:\+?86[ -]?)?(?:0\d{2,3}|\(0\d{2,3}\))[ -]?\d{7,8}(?!\d)/g;
const EMAIL_IN_TEXT = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;
const digitsOf = (m: string) => m.replace(/[ ()-]/g, '');

/** Full-width forms of ASCII (`１３９…`, `＠`, `－`) and the ideographic space, as Chinese input methods type them. */
const WIDE = /[\uff01-\uff5e\u3000]/;
const WIDE_ALL = /[\uff01-\uff5e\u3000]/g;
/** Each wide character as its ASCII form: one UTF-16 unit for one, so positions in the folded text are the same. */
const foldWide = (s: string): string =>
  s.replace(WIDE_ALL, (c) => (c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)));

/**
 * Whether `s` could hold what the patterns above mask: a mobile (11 digits), a landline (an area code and 7–8 digits:
 * 10 at least) or an email (an `@`), in either width. Most titles and log messages (a door number, a date) cannot.
 */
function couldHoldContact(s: string): boolean {
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0xff10 && c <= 0xff19)) {
      if (++digits >= 10) return true;
    } else if (c === 0x40 || c === 0xff20) return true;
  }
  return false;
}

function maskAscii(s: string): string {
  return s
    .replace(PHONE_IN_TEXT, (m) => maskPhone(digitsOf(m)))
    .replace(LANDLINE_IN_TEXT, (m) => maskPhone(digitsOf(m)))
    .replace(EMAIL_IN_TEXT, (m) => maskEmail(m));
}

/**
 * Masks phone numbers (mobile and landline, with or without separators) and email addresses inside free text, also
 * when they are typed in full-width characters (`１３９ １２３４ ５６７８`, `ｚｈａｎｇ＠ｑｑ．ｃｏｍ`). Text that cannot hold
 * one is returned as it is. Everything but the masked numbers and addresses keeps its width: full-width punctuation
 * (，：（）) is not touched.
 */
export function maskText(s: string): string {
  return couldHoldContact(s) ? maskContacts(s) : s;
}

/** `maskText` without the precheck (exported for its test: both must give the same text). */
export function maskContacts(s: string): string {
  const folded = WIDE.test(s) ? foldWide(s) : s;
  if (folded === s) return maskAscii(s);
  // Found on the folded text, masked in the original: the folding keeps every position, so the ranges line up.
  const cuts: { from: number; to: number; mask: string }[] = [];
  const take = (re: RegExp, mask: (m: string) => string) => {
    for (const m of folded.matchAll(re)) {
      const from = m.index;
      const to = from + m[0].length;
      if (cuts.some((c) => from < c.to && c.from < to)) continue;
      cuts.push({ from, to, mask: mask(m[0]) });
    }
  };
  take(PHONE_IN_TEXT, (m) => maskPhone(digitsOf(m)));
  take(LANDLINE_IN_TEXT, (m) => maskPhone(digitsOf(m)));
  take(EMAIL_IN_TEXT, maskEmail);
  if (cuts.length === 0) return s;
  cuts.sort((a, b) => a.from - b.from);
  let out = '';
  let at = 0;
  for (const c of cuts) {
    out += s.slice(at, c.from) + c.mask;
    at = c.to;
  }
  return out + s.slice(at);
}
