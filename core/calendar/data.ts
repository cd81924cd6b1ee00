/**
 * The calendar as data: the official State Council arrangement (snapshot of `chinese-days`,
 * `config/calendar/official-cn.json`) and the city's own overrides (`config/calendar/overrides.json`).
 */
import * as z from 'zod/mini';
import { isIsoDate } from './shanghai-time.ts';

const isoDate = z.string().check(z.refine(isIsoDate, { message: 'expected a date YYYY-MM-DD' }));
const clock = z.string().check(z.regex(/^([01]\d|2[0-4]):[0-5]\d$/, { message: 'expected HH:MM' }));
const name = z.string().check(z.minLength(1), z.maxLength(100));

/**
 * Official arrangement for a contiguous range of years. Inside `[coveredFrom, coveredUntil]` every date is known:
 * a listed holiday (放假), a listed make-up working day (调休上班), or else Mon–Fri work and Sat/Sun rest.
 * Outside it nothing is known: next year's holidays are only announced each autumn.
 */
export const OfficialCalendarSchema = z.object({
  source: z.string(),
  /** Version of the source, e.g. `chinese-days@1.5.7`. */
  version: z.string().check(z.minLength(1)),
  coveredFrom: isoDate,
  coveredUntil: isoDate,
  /** date → holiday name (春节, 国庆节 …). */
  holidays: z.record(isoDate, name),
  /** date → name of the holiday a Saturday/Sunday is worked for (调休上班). */
  workdays: z.record(isoDate, name),
});
export type OfficialCalendar = z.infer<typeof OfficialCalendarSchema>;

export const WorkingPeriodSchema = z.object({ start: clock, end: clock });
export type WorkingPeriod = z.infer<typeof WorkingPeriodSchema>;

/** One city decision about one date: a local holiday, a typhoon day off (停工), an extra working day. */
export const DayOverrideSchema = z.object({
  date: isoDate,
  working: z.boolean(),
  name: name,
  /** Who decided and why (notice number, link): 全要素留痕 for the calendar too. */
  reason: z.optional(z.string().check(z.maxLength(500))),
});
export type DayOverride = z.infer<typeof DayOverrideSchema>;

/**
 * Official data for years past the snapshot, entered by the city once the State Council notice is out and before
 * the `chinese-days` package catches up. It extends the covered range up to `until` (which must then be complete).
 */
export const OfficialSupplementSchema = z.object({
  source: z.string().check(z.minLength(1)),
  until: isoDate,
  holidays: z.record(isoDate, name),
  workdays: z.record(isoDate, name),
});
export type OfficialSupplement = z.infer<typeof OfficialSupplementSchema>;

export const CalendarOverridesSchema = z.object({
  /** Bumped on every change; part of the calendar version recorded on each deadline. */
  version: z.string().check(z.minLength(1), z.maxLength(64)),
  city: z.optional(z.string()),
  note: z.optional(z.string()),
  /** Office hours for limits counted in working hours (e.g. 09:00–12:00, 14:00–18:00). */
  workingHours: z.optional(z.array(WorkingPeriodSchema).check(z.minLength(1), z.maxLength(8))),
  days: z.optional(z.array(DayOverrideSchema)),
  supplement: z.optional(OfficialSupplementSchema),
});
export type CalendarOverrides = z.infer<typeof CalendarOverridesSchema>;

/** Used when the override file names no office hours: the common 12345 department schedule. */
export const DEFAULT_WORKING_HOURS: readonly WorkingPeriod[] = [
  { start: '09:00', end: '12:00' },
  { start: '14:00', end: '18:00' },
];
