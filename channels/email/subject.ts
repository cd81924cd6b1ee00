/**
 * Subject lines: reply/forward prefixes in the languages our citizens' clients write (`Re:`, `回复：`, `答复:`,
 * `转发:`, `Fwd:`, `回覆`, `轉寄`, `AW:` ...) and the tracking number (受理编号) our acknowledgement puts in the subject,
 * which a reply carries back.
 */
import { TRACKING_NO_IN_TEXT } from '#core/ids.ts';

const PREFIX =
  /^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|rif|tr|r)\s*(?:\[\d{1,3}\]|\(\d{1,3}\))?\s*[:：]|(?:回复|回覆|答复|答覆|转发|轉發|转寄|轉寄|转|回)\s*(?:\[\d{1,3}\]|\(\d{1,3}\))?\s*[:：])\s*/i;
/** Our own tag: `[受理编号 20251128000123]`, `【受理编号：…】`. */
const OUR_TAG = /^\s*[[【]\s*受理(?:编号|編號)\s*[:：]?\s*[0-9A-Za-z-]{1,40}\s*[\]】]\s*/;

/**
 * Default shape of a tracking number: core's `TRACKING_NO_IN_TEXT` (`YYYYMMDD` + a 6 to 8 digit sequence,
 * e.g. `20251128000123`). Callers may pass their own (one capture group, or the whole match, is the number).
 */
export const DEFAULT_TRACKING_NO: RegExp = TRACKING_NO_IN_TEXT;

/** The subject without leading reply/forward prefixes and our tracking tag, repeated ones included. */
export function baseSubject(subject: string): string {
  let s = subject.replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 20; i++) {
    const next = s.replace(OUR_TAG, '').replace(PREFIX, '');
    if (next === s) break;
    s = next;
  }
  return s.trim();
}

/** The first tracking number in a subject, or undefined. */
export function findTrackingNo(subject: string, pattern: RegExp = DEFAULT_TRACKING_NO): string | undefined {
  const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  const m = re.exec(subject);
  return m ? (m[1] ?? m[0]) : undefined;
}
