import { isWorkday as libIsWorkday } from 'chinese-days';
import chineseDaysData from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import chineseDaysPkg from 'chinese-days/package.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import officialFile from '#config/calendar/official-cn.json' with { type: 'json' };
import overridesFile from '#config/calendar/overrides.json' with { type: 'json' };
import { snapshotFromChineseDays } from '#core/calendar/chinese-days-snapshot.ts';
import { defaultCalendar } from '#core/calendar/default.ts';
import { dateOfDay, dayNumber } from '#core/calendar/shanghai-time.ts';
import { WorkingCalendar } from '#core/calendar/working-calendar.ts';
import { isCityLoopError } from '#core/errors.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isCityLoopError(e) ? e.code : `not a CityLoopError: ${String(e)}`;
  }
  return undefined;
}

describe('Class: WorkingCalendar', () => {
  const cal = defaultCalendar();

  describe('covered range and the unknown future', () => {
    it('should cover 2004 through 2026 from the chinese-days snapshot', () => {
      // Assess
      expect(cal.coveredFrom).toBe('2004-01-01');
      expect(cal.coveredUntil).toBe('2026-12-31');
      expect(cal.version).toBe(`chinese-days@${chineseDaysPkg.version}+${overridesFile.version}`);
    });

    it("should answer 'unknown' for any date of 2027 and later, even a plain Monday, where chinese-days says workday", () => {
      // Prepare
      const monday = '2027-01-04';

      // Act
      const ours = cal.isWorkingDay(monday);
      const lib = libIsWorkday(new Date(2027, 0, 4, 12));

      // Assess
      expect(ours).toBe('unknown');
      expect(lib).toBe(true);
      expect(cal.isWorkingDay('2027-02-06')).toBe('unknown');
      expect(cal.isWorkingDay('2030-10-01')).toBe('unknown');
      expect(cal.isWorkingDay('2003-12-31')).toBe('unknown');
      expect(cal.dayInfo('2027-01-01')).toEqual({ date: '2027-01-01', working: 'unknown', kind: 'unknown' });
    });

    it('should count over 2027 as Mon–Fri and mark the answer provisional', () => {
      // Act
      const crossing = cal.addWorkingDays('2026-12-30', 3);
      const inside = cal.addWorkingDays('2026-12-28', 3);

      // Assess: 12-31 is the last known day; 2027-01-01 (Fri) and 01-04 (Mon) are assumed working.
      expect(crossing).toEqual({ date: '2027-01-04', provisional: true });
      expect(inside).toEqual({ date: '2026-12-31', provisional: false });
    });

    it('should mark working-hour arithmetic provisional when it crosses into 2027', () => {
      // Act
      const r = cal.addWorkingHours('2026-12-31T17:00:00+08:00', 2);

      // Assess
      expect(r.at).toBe('2027-01-01T10:00:00.000+08:00');
      expect(r.provisional).toBe(true);
    });

    it('should refuse dates that are not real dates', () => {
      // Assess
      expect(() => cal.isWorkingDay('2025-02-29')).toThrow(RangeError);
      expect(() => cal.isWorkingDay('2025-9-1')).toThrow(RangeError);
      expect(() => cal.addWorkingDays('2025-09-01', 1.5)).toThrow(RangeError);
    });
  });

  describe('addWorkingDays (次日起)', () => {
    it('should reach 2025-10-14 for 5 working days after 2025-09-30 (10-01..08 off, 10-11 make-up Saturday)', () => {
      // Act
      const r = cal.addWorkingDays('2025-09-30', 5);

      // Assess
      expect(r).toEqual({ date: '2025-10-14', provisional: false });
    });

    it('should count the make-up Sunday 2025-09-28 and never count the receipt day itself', () => {
      // Assess
      expect(cal.addWorkingDays('2025-09-26', 1).date).toBe('2025-09-28');
      expect(cal.addWorkingDays('2025-09-26', 2).date).toBe('2025-09-29');
      expect(cal.addWorkingDays('2025-09-29', 0).date).toBe('2025-09-29');
    });

    it('should go backwards for negative counts', () => {
      // Assess
      expect(cal.addWorkingDays('2025-10-14', -5).date).toBe('2025-09-30');
      expect(cal.addWorkingDays('2025-10-09', -1).date).toBe('2025-09-30');
    });

    it('should measure working days between two dates as the inverse of addWorkingDays', () => {
      // Assess
      expect(cal.workingDaysBetween('2025-09-30', '2025-10-14')).toEqual({ days: 5, provisional: false });
      expect(cal.workingDaysBetween('2025-10-14', '2025-09-30')).toEqual({ days: 0, provisional: false });
      expect(cal.workingDaysBetween('2026-12-30', '2027-01-04')).toEqual({ days: 3, provisional: true });
    });
  });

  describe('addWorkingHours (09:00–12:00, 14:00–18:00)', () => {
    it.each([
      ['inside the morning, into the afternoon', '2025-09-29T11:00:00+08:00', 2, '2025-09-29T15:00:00.000+08:00'],
      ['from the lunch break', '2025-09-29T12:30:00+08:00', 1, '2025-09-29T15:00:00.000+08:00'],
      ['ending exactly at the close of the day', '2025-09-29T17:00:00+08:00', 1, '2025-09-29T18:00:00.000+08:00'],
      ['ending exactly at noon (not 14:00)', '2025-09-29T09:00:00+08:00', 3, '2025-09-29T12:00:00.000+08:00'],
      ['from the evening, to the next morning', '2025-09-29T20:00:00+08:00', 0.5, '2025-09-30T09:30:00.000+08:00'],
      ['over the National Day holidays', '2025-09-30T17:00:00+08:00', 2, '2025-10-09T10:00:00.000+08:00'],
      ['through the make-up Saturday 10-11', '2025-10-10T17:00:00+08:00', 2, '2025-10-11T10:00:00.000+08:00'],
      ['a full make-up Saturday and on to Monday', '2025-10-11T09:00:00+08:00', 8, '2025-10-13T10:00:00.000+08:00'],
      ['from a UTC instant', '2025-09-29T01:00:00Z', 1, '2025-09-29T10:00:00.000+08:00'],
      ['across a weekend', '2025-09-19T17:30:00+08:00', 1, '2025-09-22T09:30:00.000+08:00'],
    ])('should add working hours %s', (_label, from, hours, expected) => {
      // Act
      const r = cal.addWorkingHours(from, hours);

      // Assess
      expect(r.at).toBe(expected);
      expect(r.provisional).toBe(false);
    });

    it.each([
      ['back to the morning from the afternoon start', '2025-09-29T14:00:00+08:00', 1, '2025-09-29T11:00:00.000+08:00'],
      ['back over the holidays', '2025-10-09T10:00:00+08:00', 2, '2025-09-30T17:00:00.000+08:00'],
      ['back exactly to the start of a period', '2025-09-29T15:00:00+08:00', 1, '2025-09-29T14:00:00.000+08:00'],
      ['back from midnight', '2025-09-30T00:00:00+08:00', 2, '2025-09-29T16:00:00.000+08:00'],
    ])('should subtract working hours %s', (_label, from, hours, expected) => {
      // Act
      const r = cal.addWorkingHours(from, -hours);

      // Assess
      expect(r.at).toBe(expected);
    });

    it('should return the same instant for zero hours and know office time', () => {
      // Assess
      expect(cal.addWorkingHours('2025-10-01T03:00:00+08:00', 0).at).toBe('2025-10-01T03:00:00.000+08:00');
      expect(cal.isWorkingTime('2025-10-11T10:00:00+08:00')).toBe(true);
      expect(cal.isWorkingTime('2025-10-01T10:00:00+08:00')).toBe(false);
      expect(cal.isWorkingTime('2025-09-29T12:30:00+08:00')).toBe(false);
      expect(cal.isWorkingTime('2027-01-05T10:00:00+08:00')).toBe('unknown');
    });

    it('should refuse an instant without a zone', () => {
      // Assess
      expect(() => cal.addWorkingHours('2025-09-29T10:00:00', 1)).toThrow(RangeError);
    });
  });

  describe('city overrides', () => {
    const overrides = {
      version: 'test-1',
      workingHours: [
        { start: '08:30', end: '12:00' },
        { start: '13:30', end: '17:30' },
      ],
      days: [
        { date: '2025-07-21', working: false, name: '台风停工', reason: '市三防指挥部通告' },
        { date: '2025-03-31', working: false, name: '壮族三月三' },
        { date: '2025-11-01', working: true, name: '补班' },
        { date: '2027-03-20', working: false, name: '壮族三月三' },
      ],
    };
    const city = WorkingCalendar.create(officialFile, overrides);

    it('should take a typhoon day off, a local holiday and an extra working day', () => {
      // Assess
      expect(city.isWorkingDay('2025-07-21')).toBe(false);
      expect(city.dayInfo('2025-07-21')).toEqual({
        date: '2025-07-21',
        working: false,
        kind: 'local-holiday',
        name: '台风停工',
        reason: '市三防指挥部通告',
      });
      expect(city.isWorkingDay('2025-03-31')).toBe(false);
      expect(city.isWorkingDay('2025-11-01')).toBe(true);
      expect(city.dayInfo('2025-11-01').kind).toBe('local-workday');
      expect(city.version).toBe(`chinese-days@${chineseDaysPkg.version}+test-1`);
    });

    it('should move deadlines over the typhoon day', () => {
      // Act: Fri 2025-07-18 + 1 working day = Mon 07-21, which is off → Tue 07-22.
      const r = city.addWorkingDays('2025-07-18', 1);

      // Assess
      expect(r.date).toBe('2025-07-22');
      expect(cal.addWorkingDays('2025-07-18', 1).date).toBe('2025-07-21');
    });

    it('should know a city decision past the covered range while the days around it stay unknown', () => {
      // Assess
      expect(city.isWorkingDay('2027-03-20')).toBe(false);
      expect(city.isWorkingDay('2027-03-19')).toBe('unknown');
    });

    it('should use the configured office hours', () => {
      // Act
      const r = city.addWorkingHours('2025-09-29T11:00:00+08:00', 2);

      // Assess: 11:00–12:00 then 13:30–14:30.
      expect(r.at).toBe('2025-09-29T14:30:00.000+08:00');
      expect(city.workingHours).toEqual(overrides.workingHours);
    });

    it('should ship an override file that parses and applies', () => {
      // Assess
      expect(cal.dayInfo('2023-09-01')).toMatchObject({ working: false, kind: 'local-holiday', name: '台风停工' });
      expect(cal.workingHours).toEqual(overridesFile.workingHours);
    });
  });

  describe('supplement (next year announced before chinese-days has it)', () => {
    // A made-up arrangement for a future year: only the mechanism is under test.
    const supplement = {
      source: 'test notice',
      until: '2027-12-31',
      holidays: { '2027-01-01': '元旦', '2027-02-05': '春节', '2027-02-08': '春节' },
      workdays: { '2027-02-13': '春节' },
    };
    const extended = WorkingCalendar.create(officialFile, { version: 'sup-1', supplement });

    it('should extend the covered range and make 2027 exact', () => {
      // Assess
      expect(extended.coveredUntil).toBe('2027-12-31');
      expect(extended.isWorkingDay('2027-01-01')).toBe(false);
      expect(extended.isWorkingDay('2027-01-04')).toBe(true);
      expect(extended.isWorkingDay('2027-02-13')).toBe(true);
      expect(extended.addWorkingDays('2026-12-30', 3)).toEqual({ date: '2027-01-05', provisional: false });
      expect(extended.isWorkingDay('2028-01-03')).toBe('unknown');
    });

    it('should refuse a supplement that does not extend the range or lists dates outside it', () => {
      // Assess
      expect(
        codeOf(() =>
          WorkingCalendar.create(officialFile, { version: 'x', supplement: { ...supplement, until: '2026-06-30' } }),
        ),
      ).toBe('INVALID_CALENDAR');
      expect(
        codeOf(() =>
          WorkingCalendar.create(officialFile, {
            version: 'x',
            supplement: { ...supplement, holidays: { '2028-01-01': '元旦' } },
          }),
        ),
      ).toBe('INVALID_CALENDAR');
    });
  });

  describe('invalid data', () => {
    it.each([
      [
        'a make-up day on a weekday',
        {
          version: 'x',
          supplement: { source: 's', until: '2027-12-31', holidays: {}, workdays: { '2027-01-05': '春节' } },
        },
      ],
      [
        'a date listed twice',
        {
          version: 'x',
          days: [
            { date: '2025-01-02', working: false, name: 'a' },
            { date: '2025-01-02', working: true, name: 'b' },
          ],
        },
      ],
      [
        'overlapping office hours',
        {
          version: 'x',
          workingHours: [
            { start: '09:00', end: '13:00' },
            { start: '12:00', end: '18:00' },
          ],
        },
      ],
      ['office hours ending before they start', { version: 'x', workingHours: [{ start: '18:00', end: '09:00' }] }],
      ['a malformed date', { version: 'x', days: [{ date: '2025-13-01', working: false, name: 'a' }] }],
      ['a missing version', { days: [] }],
    ])('should refuse overrides with %s', (_label, overrides) => {
      // Assess
      expect(codeOf(() => WorkingCalendar.create(officialFile, overrides))).toBe('INVALID_CALENDAR');
    });

    it('should refuse official data listing a day as both holiday and workday', () => {
      // Prepare
      const bad = { ...officialFile, workdays: { ...officialFile.workdays, '2025-10-04': '国庆节' } };

      // Assess
      expect(codeOf(() => WorkingCalendar.create(bad))).toBe('INVALID_CALENDAR');
    });
  });

  describe('snapshot of chinese-days', () => {
    it('should equal a fresh snapshot of the installed chinese-days (run `npx cityloop sla snapshot` after upgrading it)', () => {
      // Act
      const fresh = snapshotFromChineseDays(chineseDaysData, `chinese-days@${chineseDaysPkg.version}`);

      // Assess
      expect(officialFile).toEqual(fresh);
    });

    it('should agree with chinese-days isWorkday on every day of 2004–2026', () => {
      // Prepare
      const disagree: string[] = [];

      // Act
      for (let d = dayNumber('2004-01-01'); d <= dayNumber('2026-12-31'); d++) {
        const date = dateOfDay(d);
        const [y, m, dd] = date.split('-').map(Number) as [number, number, number];
        // Local noon: chinese-days reads dates in the host's zone.
        if (cal.isWorkingDay(date) !== libIsWorkday(new Date(y, m - 1, dd, 12))) disagree.push(date);
      }

      // Assess: the only differences are this city's own overrides.
      expect(disagree).toEqual(overridesFile.days.map((o) => o.date));
    });
  });
});
