/**
 * W3C date-times (the profile of ISO 8601 that Open311 names: https://www.w3.org/TR/NOTE-datetime) in and out.
 * In: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`, `...:ss`, `...:ss.s` with `Z` or `±hh:mm`; without a zone the
 * jurisdiction's time (Asia/Shanghai, UTC+8 all year) is meant. A `+` sent unencoded in a query string arrives as a
 * space (`2025-11-28T10:00:00 08:00`): it is read as the `+` it was.
 * Out: seconds precision with the +08:00 offset, which Perl's DateTime::Format::W3CDTF (FixMyStreet) also parses.
 */

const SHANGHAI_OFFSET_MIN = 8 * 60;

const W3C = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+\- ]\d{2}:?\d{2})?)?$/;

export interface W3cInstant {
  ms: number;
  /** A bare date: as `end_date` it means the whole day. */
  dateOnly: boolean;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses a W3C date-time; undefined when it is not one (the caller answers 400). */
export function parseW3cDateTime(input: string): W3cInstant | undefined {
  const m = W3C.exec(input.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  let offsetMin = SHANGHAI_OFFSET_MIN;
  if (zone !== undefined && h !== undefined) {
    if (zone === 'Z') offsetMin = 0;
    else {
      const digits = zone.slice(1).replace(':', '');
      const oh = Number(digits.slice(0, 2));
      const om = Number(digits.slice(2, 4));
      if (oh > 14 || om > 59) return undefined;
      offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
    }
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMin * 60_000;
  return Number.isFinite(ms) ? { ms, dateOnly: h === undefined } : undefined;
}

/** `2025-11-28T10:00:00+08:00`: the time in Asia/Shanghai, seconds precision. */
export function formatW3c(ms: number): string {
  const local = new Date(ms + SHANGHAI_OFFSET_MIN * 60_000).toISOString();
  return `${local.slice(0, 19)}+08:00`;
}

/** Formats a stored ISO string (any offset) the same way; undefined for a value that is not a date. */
export function toW3c(iso: string | undefined | null): string | undefined {
  if (typeof iso !== 'string') return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? formatW3c(ms) : undefined;
}

export const DAY_MS = 86_400_000;
