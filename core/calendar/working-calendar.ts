/**
 * WorkingCalendar: which Asia/Shanghai dates are working days (工作日), from the official State Council arrangement
 * (holidays and 调休 make-up working days) plus the city's overrides (local holidays, a typhoon day off, extra
 * working days), and the office hours used by limits counted in working hours.
 *
 * A date past the covered range is `'unknown'`, never silently Mon–Fri: `chinese-days` itself treats years it has no
 * data for as plain Mon–Fri, which would make every deadline crossing New Year wrong without a word. Arithmetic that
 * crosses unknown dates still answers (assuming Mon–Fri) but says `provisional: true`, so the caller can raise an alarm
 * and recompute once the calendar is extended.
 */
import { CityLoopError } from '../errors.ts';
import {
  type CalendarOverrides,
  CalendarOverridesSchema,
  DEFAULT_WORKING_HOURS,
  type OfficialCalendar,
  OfficialCalendarSchema,
  type WorkingPeriod,
} from './data.ts';
import {
  dateOfDay,
  dayNumber,
  formatShanghai,
  type IsoDate,
  isWeekendDay,
  MINUTE_MS,
  parseClock,
  parseInstant,
  shanghaiDayOf,
  startOfShanghaiDay,
} from './shanghai-time.ts';

/** How a date came to be what it is. */
export type DayKind =
  | 'workday' // Mon–Fri
  | 'weekend' // Sat/Sun
  | 'holiday' // 法定节假日 / 放假调休
  | 'makeup' // 调休上班 (a Saturday or Sunday worked)
  | 'local-holiday' // city override: not working (local holiday, typhoon 停工 …)
  | 'local-workday' // city override: working
  | 'unknown'; // past the covered range

export interface DayInfo {
  date: IsoDate;
  working: boolean | 'unknown';
  kind: DayKind;
  /** Holiday name (春节, 国庆节 …) or the override's name. */
  name?: string;
  reason?: string;
}

export interface WorkingDaysResult {
  date: IsoDate;
  /** True when the count crossed a date past the covered range (counted as Mon–Fri). */
  provisional: boolean;
}

export interface WorkingHoursResult {
  /** ISO 8601, +08:00. */
  at: string;
  ms: number;
  provisional: boolean;
}

/** Counting loops stop here: ten years of days, far beyond any limit a policy can state. */
export const MAX_DAYS_SPAN = 3660;

const KIND_CODES: readonly DayKind[] = ['workday', 'weekend', 'holiday', 'makeup', 'local-holiday', 'local-workday'];
const WORKDAY = 0;
const WEEKEND = 1;
const HOLIDAY = 2;
const MAKEUP = 3;
const LOCAL_HOLIDAY = 4;
const LOCAL_WORKDAY = 5;
const isWorkingCode = (c: number): boolean => c === WORKDAY || c === MAKEUP || c === LOCAL_WORKDAY;

/** Result of a day lookup on the fast path: 1 working, 0 not working, -1 unknown (outside coverage). */
type DayState = 1 | 0 | -1;

interface Period {
  start: number;
  end: number;
}

function invalid(message: string, details?: unknown): CityLoopError {
  return new CityLoopError('INVALID_CALENDAR', message, 500, details);
}

export class WorkingCalendar {
  /** `<official version>+<override version>`: recorded on every deadline computed with this calendar. */
  readonly version: string;
  readonly coveredFrom: IsoDate;
  readonly coveredUntil: IsoDate;
  readonly workingHours: readonly WorkingPeriod[];
  readonly officialSource: string;

  private readonly fromDay: number;
  private readonly untilDay: number;
  /** Kind code per covered day (index = day − fromDay). */
  private readonly codes: Uint8Array;
  /** City overrides past the covered range: known days in unknown territory. */
  private readonly outside = new Map<number, boolean>();
  private readonly names = new Map<number, { name: string; reason?: string }>();
  private readonly periods: readonly Period[];
  private readonly workMsPerDay: number;

  /** Validates both documents (zod) and builds the calendar; throws `INVALID_CALENDAR` on bad data. */
  static create(official: unknown, overrides?: unknown): WorkingCalendar {
    const o = OfficialCalendarSchema.safeParse(official);
    if (!o.success) throw invalid('official calendar data does not match its schema', o.error.issues);
    const v = CalendarOverridesSchema.safeParse(overrides ?? { version: 'none' });
    if (!v.success) throw invalid('calendar overrides do not match their schema', v.error.issues);
    return new WorkingCalendar(o.data, v.data);
  }

  /**
   * The calendar of documents already validated by `create` elsewhere: the shipped `config/calendar/*.json`, which
   * `npx cdk synth` and the unit tests validate (infra/config-check.ts), so a Lambda does not pay the schema check on
   * every cold start. The calendar's own consistency checks still run.
   */
  static trusted(official: OfficialCalendar, overrides?: CalendarOverrides): WorkingCalendar {
    return new WorkingCalendar(official, overrides ?? { version: 'none' });
  }

  private constructor(official: OfficialCalendar, overrides: CalendarOverrides) {
    const from = dayNumber(official.coveredFrom);
    const officialUntil = dayNumber(official.coveredUntil);
    if (officialUntil < from) throw invalid('coveredUntil is before coveredFrom');
    const supplement = overrides.supplement;
    const until = supplement ? dayNumber(supplement.until) : officialUntil;
    if (supplement && until <= officialUntil) {
      throw invalid(
        `supplement.until ${supplement.until} must be after the official coverage (${official.coveredUntil})`,
      );
    }
    this.fromDay = from;
    this.untilDay = until;
    this.coveredFrom = official.coveredFrom;
    this.coveredUntil = dateOfDay(until);
    this.officialSource = supplement ? `${official.source}; ${supplement.source}` : official.source;
    this.version = `${official.version}+${overrides.version}`;

    const codes = new Uint8Array(until - from + 1);
    for (let d = from; d <= until; d++) codes[d - from] = isWeekendDay(d) ? WEEKEND : WORKDAY;
    const place = (
      lists: { holidays: Record<string, string>; workdays: Record<string, string> },
      lo: number,
      hi: number,
    ) => {
      for (const [date, name] of Object.entries(lists.holidays)) {
        const d = dayNumber(date);
        if (d < lo || d > hi) throw invalid(`holiday ${date} lies outside its covered range`);
        if (lists.workdays[date] !== undefined)
          throw invalid(`${date} is listed both as holiday and as make-up workday`);
        codes[d - from] = HOLIDAY;
        this.names.set(d, { name });
      }
      for (const [date, name] of Object.entries(lists.workdays)) {
        const d = dayNumber(date);
        if (d < lo || d > hi) throw invalid(`make-up workday ${date} lies outside its covered range`);
        // 调休上班 is always a Saturday or Sunday; a weekday here is a typo that would silently change nothing.
        if (!isWeekendDay(d)) throw invalid(`make-up workday ${date} is not a Saturday or Sunday`);
        codes[d - from] = MAKEUP;
        this.names.set(d, { name });
      }
    };
    place(official, from, officialUntil);
    if (supplement) place(supplement, officialUntil + 1, until);

    const seen = new Set<number>();
    for (const o of overrides.days ?? []) {
      const d = dayNumber(o.date);
      if (seen.has(d)) throw invalid(`override date ${o.date} appears twice`);
      seen.add(d);
      this.names.set(d, o.reason === undefined ? { name: o.name } : { name: o.name, reason: o.reason });
      if (d >= from && d <= until) codes[d - from] = o.working ? LOCAL_WORKDAY : LOCAL_HOLIDAY;
      else this.outside.set(d, o.working);
    }
    this.codes = codes;

    const hours = overrides.workingHours ?? DEFAULT_WORKING_HOURS;
    const periods = hours.map((p) => ({ start: parseClock(p.start) * MINUTE_MS, end: parseClock(p.end) * MINUTE_MS }));
    for (let i = 0; i < periods.length; i++) {
      const p = periods[i]!;
      if (p.end <= p.start) throw invalid(`working period ${hours[i]!.start}–${hours[i]!.end} ends before it starts`);
      const prev = periods[i - 1];
      if (prev && p.start < prev.end) throw invalid('working periods must be in order and must not overlap');
    }
    this.workingHours = hours.map((p) => ({ ...p }));
    this.periods = periods;
    this.workMsPerDay = periods.reduce((s, p) => s + p.end - p.start, 0);
  }

  /** Whether a date is a working day; `'unknown'` past the covered range (unless the city has decided that date). */
  isWorkingDay(date: IsoDate): boolean | 'unknown' {
    const s = this.dayState(dayNumber(date));
    return s === -1 ? 'unknown' : s === 1;
  }

  isCovered(date: IsoDate): boolean {
    const d = dayNumber(date);
    return d >= this.fromDay && d <= this.untilDay;
  }

  dayInfo(date: IsoDate): DayInfo {
    const d = dayNumber(date);
    const named = this.names.get(d);
    const extra = named ? (named.reason === undefined ? { name: named.name } : named) : {};
    if (d >= this.fromDay && d <= this.untilDay) {
      const code = this.codes[d - this.fromDay]!;
      return { date, working: isWorkingCode(code), kind: KIND_CODES[code]!, ...extra };
    }
    const o = this.outside.get(d);
    if (o !== undefined) return { date, working: o, kind: o ? 'local-workday' : 'local-holiday', ...extra };
    return { date, working: 'unknown', kind: 'unknown' };
  }

  /** Holidays, make-up days and city overrides between two dates (inclusive), for listings. */
  namedDays(from: IsoDate, to: IsoDate): DayInfo[] {
    const out: DayInfo[] = [];
    const a = dayNumber(from);
    const b = dayNumber(to);
    for (const d of [...this.names.keys()].sort((x, y) => x - y))
      if (d >= a && d <= b) out.push(this.dayInfo(dateOfDay(d)));
    return out;
  }

  /**
   * The `n`-th working day after `from` (n > 0), or before it (n < 0); `from` itself is never counted (次日起).
   * n = 0 returns `from`. Unknown dates count as Mon–Fri and make the answer provisional.
   */
  addWorkingDays(from: IsoDate, n: number): WorkingDaysResult {
    const r = this.addWorkingDaysByDay(dayNumber(from), n);
    return { date: dateOfDay(r.day), provisional: r.provisional };
  }

  /** Day-number form of `addWorkingDays` (no string parsing: the deadline hot path). */
  addWorkingDaysByDay(from: number, n: number): { day: number; provisional: boolean } {
    if (!Number.isInteger(n) || Math.abs(n) > MAX_DAYS_SPAN) {
      throw new RangeError(`working days must be an integer within ±${MAX_DAYS_SPAN}: ${n}`);
    }
    let day = from;
    let provisional = false;
    let left = Math.abs(n);
    const step = n < 0 ? -1 : 1;
    while (left > 0) {
      day += step;
      const s = this.dayState(day);
      if (s === -1) {
        provisional = true;
        if (!isWeekendDay(day)) left--;
      } else if (s === 1) left--;
    }
    return { day, provisional };
  }

  /** Working days in (from, to]: how many working days after `from` it took to reach `to`. 0 when to ≤ from. */
  workingDaysBetween(from: IsoDate, to: IsoDate): { days: number; provisional: boolean } {
    return this.workingDaysBetweenDays(dayNumber(from), dayNumber(to));
  }

  workingDaysBetweenDays(from: number, to: number): { days: number; provisional: boolean } {
    if (to - from > MAX_DAYS_SPAN) throw new RangeError(`span over ${MAX_DAYS_SPAN} days`);
    let days = 0;
    let provisional = false;
    for (let d = from + 1; d <= to; d++) {
      const s = this.dayState(d);
      if (s === -1) {
        provisional = true;
        if (!isWeekendDay(d)) days++;
      } else days += s;
    }
    return { days, provisional };
  }

  /** Whether an instant falls inside office hours on a working day. */
  isWorkingTime(at: string | number): boolean | 'unknown' {
    const ms = typeof at === 'number' ? at : parseInstant(at);
    const day = shanghaiDayOf(ms);
    const s = this.dayState(day);
    const inHours = this.periods.some(
      (p) => ms >= startOfShanghaiDay(day) + p.start && ms < startOfShanghaiDay(day) + p.end,
    );
    if (!inHours) return false;
    return s === -1 ? 'unknown' : s === 1;
  }

  /**
   * Adds `hours` of office time (negative: goes back). Time outside office hours and non-working days does not count.
   * Landing exactly on the end of a period answers that end (12:00), not the next period's start (14:00).
   */
  addWorkingHours(from: string | number, hours: number): WorkingHoursResult {
    const start = typeof from === 'number' ? from : parseInstant(from);
    const r = this.addWorkingMs(start, Math.round(hours * 3_600_000));
    return { at: formatShanghai(r.ms), ms: r.ms, provisional: r.provisional };
  }

  /** Millisecond form of `addWorkingHours`. */
  addWorkingMs(from: number, amount: number): { ms: number; provisional: boolean } {
    if (!Number.isFinite(amount) || Number.isNaN(from)) throw new RangeError('working time must be finite');
    if (amount === 0) return { ms: from, provisional: false };
    if (Math.abs(amount) > MAX_DAYS_SPAN * this.workMsPerDay) throw new RangeError('working time span too large');
    return amount > 0 ? this.forward(from, amount) : this.backward(from, -amount);
  }

  private forward(from: number, amount: number): { ms: number; provisional: boolean } {
    let left = amount;
    let t = from;
    let day = shanghaiDayOf(from);
    let provisional = false;
    for (let i = 0; i <= MAX_DAYS_SPAN * 2; i++, day++, t = startOfShanghaiDay(day)) {
      const s = this.dayState(day);
      const working = s === -1 ? !isWeekendDay(day) : s === 1;
      if (s === -1) provisional = true;
      if (!working) continue;
      const base = startOfShanghaiDay(day);
      for (const p of this.periods) {
        const pe = base + p.end;
        if (pe <= t) continue;
        const ps = Math.max(base + p.start, t);
        const avail = pe - ps;
        if (left <= avail) return { ms: ps + left, provisional };
        left -= avail;
      }
    }
    throw new RangeError('working time span too large');
  }

  private backward(from: number, amount: number): { ms: number; provisional: boolean } {
    let left = amount;
    let t = from;
    let day = shanghaiDayOf(from);
    let provisional = false;
    for (let i = 0; i <= MAX_DAYS_SPAN * 2; i++, day--, t = startOfShanghaiDay(day + 1)) {
      const s = this.dayState(day);
      const working = s === -1 ? !isWeekendDay(day) : s === 1;
      if (s === -1) provisional = true;
      if (!working) continue;
      const base = startOfShanghaiDay(day);
      for (let k = this.periods.length - 1; k >= 0; k--) {
        const p = this.periods[k]!;
        const ps = base + p.start;
        if (ps >= t) continue;
        const pe = Math.min(base + p.end, t);
        const avail = pe - ps;
        if (left <= avail) return { ms: pe - left, provisional };
        left -= avail;
      }
    }
    throw new RangeError('working time span too large');
  }

  /** 1 working, 0 not, -1 unknown. */
  dayState(day: number): DayState {
    if (day >= this.fromDay && day <= this.untilDay) return isWorkingCode(this.codes[day - this.fromDay]!) ? 1 : 0;
    const o = this.outside.get(day);
    if (o !== undefined) return o ? 1 : 0;
    return -1;
  }
}
