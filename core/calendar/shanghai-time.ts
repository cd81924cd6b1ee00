/**
 * Asia/Shanghai time by plain offset arithmetic: China has kept UTC+8 without daylight saving since 1991, so a fixed
 * offset is exact for every date this system handles and needs no tz database (nothing to ship in a Lambda bundle).
 *
 * Dates are day numbers (days since 1970-01-01) internally: adding days is integer addition, weekdays are a modulo.
 */

/** UTC+8. */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

/** A calendar date in Asia/Shanghai, `YYYY-MM-DD`. */
export type IsoDate = string;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** ISO 8601 instant that names its zone (Z or ±hh:mm): an instant without a zone is ambiguous, so it is refused. */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export function isIsoDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** `YYYY-MM-DD` → day number. Throws RangeError on anything that is not a real date. */
export function dayNumber(date: IsoDate): number {
  if (!isIsoDate(date)) throw new RangeError(`not a date (YYYY-MM-DD): ${date}`);
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * Day number → `YYYY-MM-DD` by the civil-from-days algorithm (H. Hinnant): formatting is the hot spot of deadline
 * computation and this is several times faster than `Date#toISOString`.
 */
export function dateOfDay(day: number): IsoDate {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 1000 || y > 9999) return new Date(day * DAY_MS).toISOString().slice(0, 10);
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

/** `YYYY-MM-DDTHH:mm:ss.sss` of a wall-clock ms value (epoch ms shifted by the zone offset). */
function wallClock(local: number): string {
  const day = Math.floor(local / DAY_MS);
  let rem = local - day * DAY_MS;
  const h = Math.floor(rem / HOUR_MS);
  rem -= h * HOUR_MS;
  const mi = Math.floor(rem / MINUTE_MS);
  rem -= mi * MINUTE_MS;
  const sec = Math.floor(rem / 1000);
  return `${dateOfDay(day)}T${pad2(h)}:${pad2(mi)}:${pad2(sec)}.${pad3(rem - sec * 1000)}`;
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOfDay(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function isWeekendDay(day: number): boolean {
  const w = weekdayOfDay(day);
  return w === 0 || w === 6;
}

/** Parses an ISO 8601 instant that carries its zone; throws RangeError otherwise. */
export function parseInstant(iso: string): number {
  if (!INSTANT_RE.test(iso)) throw new RangeError(`not an ISO 8601 instant with a zone: ${iso}`);
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not a valid instant: ${iso}`);
  return ms;
}

export function isInstant(iso: string): boolean {
  return INSTANT_RE.test(iso) && !Number.isNaN(Date.parse(iso));
}

/** Epoch ms → `YYYY-MM-DDTHH:mm:ss.sss+08:00`. */
export function formatShanghai(ms: number): string {
  return `${wallClock(ms + SHANGHAI_OFFSET_MS)}+08:00`;
}

/** Epoch ms → `YYYY-MM-DDTHH:mm:ss.sssZ` (index keys sort by UTC text). */
export function formatUtc(ms: number): string {
  return `${wallClock(ms)}Z`;
}

/** The Asia/Shanghai day number an instant falls on. */
export function shanghaiDayOf(ms: number): number {
  return Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS);
}

export function shanghaiDateOf(ms: number): IsoDate {
  return dateOfDay(shanghaiDayOf(ms));
}

/** 00:00:00.000 Asia/Shanghai of a day, as epoch ms. */
export function startOfShanghaiDay(day: number): number {
  return day * DAY_MS - SHANGHAI_OFFSET_MS;
}

/** 23:59:59.999 Asia/Shanghai of a day: "due at the end of the day". */
export function endOfShanghaiDay(day: number): number {
  return startOfShanghaiDay(day + 1) - 1;
}

/** `HH:MM` (00:00–24:00) → minutes after midnight. */
export function parseClock(hhmm: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new RangeError(`not a time of day (HH:MM): ${hhmm}`);
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 24 * 60) throw new RangeError(`not a time of day (HH:MM): ${hhmm}`);
  return minutes;
}
