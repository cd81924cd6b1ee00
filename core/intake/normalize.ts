/**
 * Normalization of an intake draft before validation: what reaches triage is comparable across channels.
 * - full-width ASCII (Ａ１＠) → half-width where it matters (phones, emails, house numbers), but Chinese punctuation in
 *   free text (，。) is kept: citizens wrote it, and the department reads it;
 * - whitespace collapsed, control and bidi-override characters removed (hostile text must not reorder what staff see);
 * - phones to E.164 (`./phone.ts`: libphonenumber-js for CN/HK/MO/TW, default region CN; other countries by shape);
 * - trimming and length limits with clear, coded errors (never silent truncation of what a citizen wrote).
 */
import { CityLoopError } from '../errors.ts';
import { toE164 } from './phone.ts';
import { IntakeRequest, LIMITS } from './schema.ts';

/** Full-width forms U+FF01..U+FF5E map to ASCII 0x21..0x7E; U+3000 ideographic space to a space. */
export function toHalfWidth(s: string): string {
  return s.replace(/[\uFF01-\uFF5E\u3000]/g, (ch) => {
    const c = ch.charCodeAt(0);
    return c === 0x3000 ? ' ' : String.fromCharCode(c - 0xfee0);
  });
}

// C0/C1 controls except \t \n, zero-width and bidi controls (RLO/LRO/isolates), BOM, and lone surrogates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Whether `cleanText` would change `s`: what its replacements act on (\r and the other controls but \n, unsafe
 * characters, surrogates, NBSP and the ideographic space), a space before a space or a line break, a space after a
 * line break, three line breaks, whitespace at either end. Most texts need nothing, and one test of a compiled pattern
 * is cheaper than the six passes (and than a loop over the code units: test/unit/intake/normalize.test.ts checks both
 * agree).
 */
const NEEDS_CLEANING =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\0-\t\v-\x1f\x7f-\xa0\u200b-\u200f\u202a-\u202e\u2066-\u2069\u3000\ud800-\udfff\ufeff]| [ \n]|\n |\n\n\n|^\s|\s$/;
const needsCleaning = (s: string): boolean => NEEDS_CLEANING.test(s);

/** Free text: keep line breaks (at most two in a row), collapse other runs of whitespace, strip unsafe characters. */
export function cleanText(s: string): string {
  if (!needsCleaning(s)) return s;
  return s
    .replace(/\r\n?/g, '\n')
    .replace(UNSAFE, '')
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(/[ \t\u00A0\u3000]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A one-line field (title, name, address): no line breaks at all. */
export function cleanLine(s: string): string {
  return cleanText(s).replace(/\s+/g, ' ');
}

/** Address text: half-width digits and letters so `和平路８８号` and `和平路88号` are the same place. */
export function cleanAddress(s: string): string {
  return cleanLine(toHalfWidth(s));
}

/** Mainland mobile numbers (13x–19x, not 179), bare or with +86: E.164 is +86 and the 11 digits. */
const MOBILE_CN = /^(?:\+86)?1(?:[3-68]\d|7[0-8]|9\d)\d{8}$/;

/**
 * Phone to E.164. Chinese mobiles (1xx xxxx xxxx) and landlines with area code (0755-12345678) parse with region CN;
 * `+852`/`+886` and other international numbers keep their own country.
 */
export function normalizePhone(raw: string): string {
  const s = toHalfWidth(raw).replace(/[\s\-()（）]/g, '');
  // Fast path for the common case, a mainland mobile with or without +86: libphonenumber gives +86 and the 11 digits
  // for these (checked against it for every 4-digit prefix in the tests). 179xx is left to the library: CN strips
  // 179xx as a carrier-selection prefix (national prefix for parsing), so those numbers may parse otherwise.
  if (MOBILE_CN.test(s)) return s.startsWith('+') ? s : `+86${s}`;
  const e164 = toE164(s);
  if (e164 === undefined) {
    throw new CityLoopError('INVALID_PHONE', `电话号码无效 invalid phone number: ${raw.slice(0, 40)}`, 400, {
      field: 'citizen.phone',
    });
  }
  return e164;
}

export function normalizeEmail(raw: string): string {
  const s = toHalfWidth(raw).trim();
  const at = s.lastIndexOf('@');
  if (at < 1 || at === s.length - 1 || /\s/.test(s)) {
    throw new CityLoopError('INVALID_EMAIL', `邮箱地址无效 invalid email address: ${raw.slice(0, 60)}`, 400, {
      field: 'citizen.email',
    });
  }
  // The domain is case-insensitive; the local part is the mailbox owner's business.
  return `${s.slice(0, at)}@${s.slice(at + 1).toLowerCase()}`;
}

/** Code points in `s` (a surrogate pair counts once), counted only when the UTF-16 length could exceed `max`. */
function longerThan(s: string, max: number): boolean {
  if (s.length <= max) return false;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    if (++n > max) return true;
  }
  return false;
}

function limit(field: string, value: string, max: number): string {
  if (longerThan(value, max)) {
    throw new CityLoopError('FIELD_TOO_LONG', `${field} 超过 ${max} 字 is longer than ${max} characters`, 400, {
      field,
      max,
    });
  }
  return value;
}

export type IntakeDraft = Record<string, unknown>;

/**
 * Cleans a draft (any channel, already mapped to the IntakeRequest field names) and validates it.
 * Throws CityLoopError `VALIDATION_FAILED` with zod's issues, or a field-specific code.
 */
export function normalizeIntake(draft: IntakeDraft): IntakeRequest {
  assertShallow(draft);
  // Copies of the draft and of the two objects changed below (the caller's draft is left as it was); the validator
  // builds new objects for everything it returns, so nothing else needs a deep copy.
  // biome-ignore lint/suspicious/noExplicitAny: a draft is untyped input, narrowed field by field below
  const d = { ...draft } as Record<string, any>;
  if (typeof d.title === 'string') d.title = limit('title', cleanLine(d.title), LIMITS.title);
  if (typeof d.text === 'string') d.text = limit('text', cleanText(d.text), LIMITS.text);
  if (d.citizen && typeof d.citizen === 'object') {
    d.citizen = copyOf(d.citizen);
    const c = d.citizen;
    // Blank fields go; the name and openid keep their cleaned line (the phone and email are parsed from the raw value).
    const line: Partial<Record<'name' | 'phone' | 'email' | 'openid', string>> = {};
    for (const k of ['name', 'phone', 'email', 'openid'] as const) {
      if (typeof c[k] !== 'string') continue;
      const cleaned = cleanLine(c[k]);
      if (cleaned === '') delete c[k];
      else line[k] = cleaned;
    }
    if (typeof c.name === 'string') c.name = limit('citizen.name', line.name as string, LIMITS.name);
    if (typeof c.phone === 'string') c.phone = normalizePhone(c.phone);
    if (typeof c.email === 'string') c.email = normalizeEmail(c.email);
    if (typeof c.openid === 'string') c.openid = line.openid as string;
  }
  if (d.location && typeof d.location === 'object') {
    d.location = copyOf(d.location);
    const l = d.location;
    for (const k of ['address', 'district', 'street'] as const) {
      if (typeof l[k] === 'string') {
        l[k] = cleanAddress(l[k]);
        if (l[k] === '') delete l[k];
      }
    }
    if (typeof l.address === 'string') limit('location.address', l.address, LIMITS.address);
    for (const k of ['lat', 'lon'] as const) {
      if (typeof l[k] === 'string' && l[k].trim() !== '' && Number.isFinite(Number(l[k]))) l[k] = Number(l[k]);
    }
    if (Object.keys(l).length === 0) delete d.location;
  }
  if (typeof d.title !== 'string' || d.title === '') {
    // A title is required by the form; derive one from the text as agents do (the first clause).
    if (typeof d.text === 'string' && d.text !== '') d.title = deriveTitle(d.text);
  }
  const parsed = IntakeRequest.safeParse(d);
  if (!parsed.success) {
    throw new CityLoopError(
      'VALIDATION_FAILED',
      '诉求内容不完整或格式错误 the request is incomplete or malformed',
      400,
      {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    );
  }
  return parsed.data;
}

/** A shallow copy that keeps an array an array (the validator must still see, and refuse, the same shape). */
// biome-ignore lint/suspicious/noExplicitAny: untyped draft values
const copyOf = (v: object): any => {
  if (Array.isArray(v)) return v.slice();
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? { ...v } : structuredClone(v);
};

/** The one form is at most 3 levels deep; a draft nested deeper than this is hostile or broken. */
export const MAX_DRAFT_DEPTH = 8;

/**
 * Refuses a draft nested deeper than `MAX_DRAFT_DEPTH` before anything recurses into it (structuredClone and the
 * validator would overflow the stack on a few thousand levels, which a 64 KB JSON body can carry). Iterative.
 */
export function assertShallow(draft: unknown, max = MAX_DRAFT_DEPTH): void {
  // Values and their depths on two stacks (no pair allocated per value), popped in the order a stack of pairs gives.
  const values: unknown[] = [draft];
  const depths: number[] = [0];
  for (let seen = 0; values.length > 0; seen++) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max || seen > 10_000) {
      throw new CityLoopError('VALIDATION_FAILED', '诉求内容不完整或格式错误 the request is nested too deeply', 400, {
        issues: [{ path: '', message: `nested deeper than ${max} levels or too many values` }],
      });
    }
    // Own enumerable string keys, as `Object.values` gives them, without the array of values.
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue;
      const x = (v as Record<string, unknown>)[k];
      if (x !== null && typeof x === 'object') {
        values.push(x);
        depths.push(depth + 1);
      }
    }
  }
}

/** The first clause of the text, at most 30 characters: how agents title a call. */
export function deriveTitle(text: string): string {
  const first = cleanLine(text).split(/[。！？!?；;\n]/)[0] ?? '';
  const chars = [...first.trim()];
  return chars.length > 30 ? `${chars.slice(0, 30).join('')}…` : chars.join('') || '市民诉求';
}
