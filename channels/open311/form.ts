/**
 * `application/x-www-form-urlencoded` bodies and query strings as Open311 clients send them.
 *
 * - `attribute[CODE]=v` and the PHP-style `attribute[CODE][]=v` both name attribute CODE; repeating either key
 *   gives several values (FixMyStreet's Perl client repeats `attribute[CODE]` for a multivaluelist, PHP and Rails
 *   clients send `attribute[CODE][]`).
 * - Every other key is a plain field; a plain field given twice is ambiguous and refused.
 * - Strict decoding: a malformed percent-escape or one that decodes to invalid UTF-8 is a 400, never a guess.
 * - Bounded: pair count, key length and attribute count are capped, and names live in Maps (no `__proto__` games).
 */
import type { CityLoopError } from '#core/errors.ts';
import { badRequest } from './errors.ts';

export const FORM_LIMITS = {
  /** Key/value pairs in one body or query string. */
  pairs: 400,
  keyLength: 128,
  attributes: 64,
  valuesPerAttribute: 64,
  /** Attribute codes: the spec leaves them free; ours and FixMyStreet's are short identifiers. */
  codeLength: 64,
} as const;

export interface Open311Form {
  fields: Map<string, string>;
  /** Values of each attribute in arrival order (one for a single value, several for a multivaluelist). */
  attributes: Map<string, string[]>;
}

export type FormResult = { ok: true; form: Open311Form } | { ok: false; error: CityLoopError };

const ATTRIBUTE_KEY = /^attribute\[([^[\]]*)\](\[\])?$/;
const PLAIN_KEY = /^[A-Za-z0-9_.-]+$/;

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Parses a form body or a query string (without the leading `?`). */
export function parseForm(text: string): FormResult {
  const fields = new Map<string, string>();
  const attributes = new Map<string, string[]>();
  if (text === '') return { ok: true, form: { fields, attributes } };
  const parts = text.split('&');
  if (parts.length > FORM_LIMITS.pairs) {
    return { ok: false, error: badRequest('TOO_MANY_FIELDS', `more than ${FORM_LIMITS.pairs} form fields`) };
  }
  for (const part of parts) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    if (key === undefined || value === undefined) {
      return { ok: false, error: badRequest('MALFORMED_FORM', 'a form field is not valid percent-encoded UTF-8') };
    }
    if (key.length === 0 || key.length > FORM_LIMITS.keyLength) {
      return { ok: false, error: badRequest('MALFORMED_FORM', 'a form field name is empty or too long') };
    }
    const attr = ATTRIBUTE_KEY.exec(key);
    if (attr) {
      const code = attr[1] ?? '';
      if (code === '' || code.length > FORM_LIMITS.codeLength) {
        return { ok: false, error: badRequest('MALFORMED_ATTRIBUTE', 'an attribute code is empty or too long') };
      }
      const list = attributes.get(code);
      if (list) {
        if (list.length >= FORM_LIMITS.valuesPerAttribute) {
          return { ok: false, error: badRequest('MALFORMED_ATTRIBUTE', `too many values for attribute ${code}`) };
        }
        list.push(value);
      } else {
        if (attributes.size >= FORM_LIMITS.attributes) {
          return {
            ok: false,
            error: badRequest('MALFORMED_ATTRIBUTE', `more than ${FORM_LIMITS.attributes} attributes`),
          };
        }
        attributes.set(code, [value]);
      }
      continue;
    }
    if (key.startsWith('attribute[')) {
      return {
        ok: false,
        error: badRequest('MALFORMED_ATTRIBUTE', 'attribute fields are attribute[CODE] or attribute[CODE][]'),
      };
    }
    // Fields we do not know are ignored, as the spec lets servers do; odd names cannot be ours, so they are skipped.
    if (!PLAIN_KEY.test(key)) continue;
    if (fields.has(key)) {
      return { ok: false, error: badRequest('DUPLICATE_FIELD', `field ${key} is given more than once`) };
    }
    fields.set(key, value);
  }
  return { ok: true, form: { fields, attributes } };
}

/** Serializes a form back (for the raw record), leaving out the named fields (the api_key is never stored). */
export function serializeForm(form: Open311Form, omit: readonly string[] = []): string {
  const out: string[] = [];
  for (const [k, v] of form.fields)
    if (!omit.includes(k)) out.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  for (const [code, values] of form.attributes) {
    for (const v of values) out.push(`${encodeURIComponent(`attribute[${code}]`)}=${encodeURIComponent(v)}`);
  }
  return out.join('&');
}
