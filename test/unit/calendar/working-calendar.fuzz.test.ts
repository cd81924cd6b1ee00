import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '#core/calendar/default.ts';
import { dateOfDay, dayNumber, startOfShanghaiDay } from '#core/calendar/shanghai-time.ts';

const cal = defaultCalendar();
const FIRST = dayNumber('2024-01-01');
const LAST = dayNumber('2026-10-31');
const day = fc.integer({ min: FIRST, max: LAST });
/** Minutes into the day, in steps of 5. */
const minute = fc.integer({ min: 0, max: 287 }).map((k) => k * 5);
const quarterHours = fc.integer({ min: 1, max: 160 }).map((k) => k / 4);

describe('Class: WorkingCalendar (properties)', () => {
  it('should make workingDaysBetween the inverse of addWorkingDays, landing on a working day', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 1, max: 40 }), (d, n) => {
        // Act
        const from = dateOfDay(d);
        const r = cal.addWorkingDays(from, n);

        // Assess
        expect(cal.workingDaysBetween(from, r.date).days).toBe(n);
        expect(cal.isWorkingDay(r.date)).toBe(true);
        expect(cal.addWorkingDays(r.date, -n).date <= from).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('should undo addWorkingHours with its negative from inside office time', () => {
    fc.assert(
      fc.property(day, minute, quarterHours, (d, m, h) => {
        // Prepare
        const t = startOfShanghaiDay(d) + m * 60_000;
        fc.pre(cal.isWorkingTime(t) === true);

        // Act
        const there = cal.addWorkingHours(t, h);
        const back = cal.addWorkingHours(there.ms, -h);

        // Assess
        expect(back.ms).toBe(t);
      }),
      { numRuns: 300 },
    );
  });

  it('should land just after office time and grow with the hours added', () => {
    fc.assert(
      fc.property(day, minute, quarterHours, quarterHours, (d, m, a, b) => {
        // Prepare
        const t = startOfShanghaiDay(d) + m * 60_000;
        const [lo, hi] = a <= b ? [a, b] : [b, a];

        // Act
        const r1 = cal.addWorkingHours(t, lo);
        const r2 = cal.addWorkingHours(t, hi);

        // Assess: the last millisecond counted was office time on a working day.
        expect(cal.isWorkingTime(r1.ms - 1)).toBe(true);
        expect(r1.ms).toBeLessThanOrEqual(r2.ms);
        expect(r1.ms).toBeGreaterThan(t);
      }),
      { numRuns: 300 },
    );
  });
});
