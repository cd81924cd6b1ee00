/**
 * Masking for what operators see on a terminal (DLQ samples, verify reports): citizen contact fields by name
 * (phone, email, openid, name …) and phone numbers / email addresses inside any string, at any depth; long texts cut.
 */
import { maskEmail, maskName, maskPhone, maskText } from '#core/privacy.ts';

/** A WeChat openid (28 characters, starting with `o`) inside free text, e.g. a raw XML push in a DLQ message. */
const OPENID_IN_TEXT = /(?<![\w-])o[\w-]{27}(?![\w-])/g;

const CONTACT = /^(phone|mobile|tel|caller|fromuser(name)?|email|from|to|openid|unionid|name|sender)$/i;

function maskField(key: string, v: string): string {
  const k = key.toLowerCase();
  if (k === 'email') return v.includes('@') ? maskEmail(v) : '***';
  // `from`/`to`/`sender` are mail addresses in mail, states in a case's history (kept: received → dispatched).
  if (k === 'from' || k === 'to' || k === 'sender') return v.includes('@') ? maskEmail(maskText(v)) : maskText(v);
  if (k === 'name') return maskName(v);
  if (k === 'openid' || k === 'unionid' || k.startsWith('fromuser')) return `${v.slice(0, 4)}***`;
  return maskPhone(v);
}

export function maskDeep(value: unknown, maxText = 200, depth = 0): unknown {
  if (typeof value === 'string') {
    const masked = maskText(value).replace(OPENID_IN_TEXT, (m) => `${m.slice(0, 4)}***`);
    return [...masked].length > maxText ? `${[...masked].slice(0, maxText).join('')}…` : masked;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth > 12) return '…';
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, maxText, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = CONTACT.test(k) && typeof v === 'string' ? maskField(k, v) : maskDeep(v, maxText, depth + 1);
  }
  return out;
}

/** A message body for display: parsed JSON masked, or the masked text when it is not JSON. */
export function maskBody(body: string, maxText = 200): unknown {
  try {
    return maskDeep(JSON.parse(body), maxText);
  } catch {
    return maskDeep(body, maxText);
  }
}
