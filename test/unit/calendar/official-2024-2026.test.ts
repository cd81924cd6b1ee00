/**
 * The official arrangement of 2024, 2025 and 2026, typed in from the State Council notices (not from chinese-days),
 * checked against the calendar for every single day of the three years.
 * - 2024: 国务院办公厅关于2024年部分节假日安排的通知 (国办发明电〔2023〕7号, 2023-10-25)
 * - 2025: 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 2024-11-12)
 * - 2026: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)
 */
import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '#core/calendar/default.ts';
import { dateOfDay, dayNumber, isWeekendDay } from '#core/calendar/shanghai-time.ts';

interface Block {
  name: string;
  /** 放假 span, inclusive (including the weekend days the notice joins to it: 与周末连休). */
  off: [string, string];
  /** 调休上班 days of this holiday. */
  makeup: string[];
}

const NOTICES: Record<number, Block[]> = {
  2024: [
    { name: '元旦：1月1日放假，与周末连休', off: ['2023-12-30', '2024-01-01'], makeup: [] },
    {
      name: '春节：2月10日至17日放假调休，共8天',
      off: ['2024-02-10', '2024-02-17'],
      makeup: ['2024-02-04', '2024-02-18'],
    },
    { name: '清明节：4月4日至6日放假调休，共3天', off: ['2024-04-04', '2024-04-06'], makeup: ['2024-04-07'] },
    {
      name: '劳动节：5月1日至5日放假调休，共5天',
      off: ['2024-05-01', '2024-05-05'],
      makeup: ['2024-04-28', '2024-05-11'],
    },
    { name: '端午节：6月10日放假，与周末连休', off: ['2024-06-08', '2024-06-10'], makeup: [] },
    { name: '中秋节：9月15日至17日放假调休，共3天', off: ['2024-09-15', '2024-09-17'], makeup: ['2024-09-14'] },
    {
      name: '国庆节：10月1日至7日放假调休，共7天',
      off: ['2024-10-01', '2024-10-07'],
      makeup: ['2024-09-29', '2024-10-12'],
    },
  ],
  2025: [
    { name: '元旦：1月1日（周三）放假1天，不调休', off: ['2025-01-01', '2025-01-01'], makeup: [] },
    {
      name: '春节：1月28日至2月4日放假调休，共8天',
      off: ['2025-01-28', '2025-02-04'],
      makeup: ['2025-01-26', '2025-02-08'],
    },
    { name: '清明节：4月4日至6日放假，共3天', off: ['2025-04-04', '2025-04-06'], makeup: [] },
    { name: '劳动节：5月1日至5日放假调休，共5天', off: ['2025-05-01', '2025-05-05'], makeup: ['2025-04-27'] },
    { name: '端午节：5月31日至6月2日放假，共3天', off: ['2025-05-31', '2025-06-02'], makeup: [] },
    {
      name: '国庆节、中秋节：10月1日至8日放假调休，共8天',
      off: ['2025-10-01', '2025-10-08'],
      makeup: ['2025-09-28', '2025-10-11'],
    },
  ],
  2026: [
    { name: '元旦：1月1日至3日放假调休，共3天', off: ['2026-01-01', '2026-01-03'], makeup: ['2026-01-04'] },
    {
      name: '春节：2月15日至23日放假调休，共9天',
      off: ['2026-02-15', '2026-02-23'],
      makeup: ['2026-02-14', '2026-02-28'],
    },
    { name: '清明节：4月4日至6日放假，共3天', off: ['2026-04-04', '2026-04-06'], makeup: [] },
    { name: '劳动节：5月1日至5日放假调休，共5天', off: ['2026-05-01', '2026-05-05'], makeup: ['2026-05-09'] },
    { name: '端午节：6月19日至21日放假，共3天', off: ['2026-06-19', '2026-06-21'], makeup: [] },
    { name: '中秋节：9月25日至27日放假，共3天', off: ['2026-09-25', '2026-09-27'], makeup: [] },
    {
      name: '国庆节：10月1日至7日放假调休，共7天',
      off: ['2026-10-01', '2026-10-07'],
      makeup: ['2026-09-20', '2026-10-10'],
    },
  ],
};

function span([from, to]: [string, string]): string[] {
  const out: string[] = [];
  for (let d = dayNumber(from); d <= dayNumber(to); d++) out.push(dateOfDay(d));
  return out;
}

const blocks = Object.entries(NOTICES).flatMap(([year, list]) => list.map((b) => ({ year: Number(year), ...b })));
const offDays = new Set(blocks.flatMap((b) => span(b.off)));
const makeupDays = new Set(blocks.flatMap((b) => b.makeup));

describe('Class: WorkingCalendar (official 2024–2026)', () => {
  const cal = defaultCalendar();

  it('should have expected data that is itself consistent (make-up days are weekends, never inside a block)', () => {
    // Assess
    for (const d of makeupDays) {
      expect(isWeekendDay(dayNumber(d)), d).toBe(true);
      expect(offDays.has(d), d).toBe(false);
    }
    expect(blocks.length).toBe(20);
    expect(makeupDays.size).toBe(19);
  });

  it.each(blocks)('should rest on every day of $year $name', ({ off }) => {
    // Act
    const states = span(off).map((d) => ({ d, working: cal.isWorkingDay(d) }));

    // Assess
    for (const { d, working } of states) expect(working, d).toBe(false);
  });

  it.each(blocks.filter((b) => b.makeup.length > 0))('should work on the make-up days of $year $name', ({ makeup }) => {
    // Assess
    for (const d of makeup) {
      expect(cal.isWorkingDay(d), d).toBe(true);
      expect(cal.dayInfo(d).kind, d).toBe('makeup');
    }
  });

  it('should agree with the notices on every one of the 1,096 days of 2024–2026', () => {
    // Prepare
    const from = dayNumber('2024-01-01');
    const to = dayNumber('2026-12-31');
    const wrong: string[] = [];

    // Act
    for (let d = from; d <= to; d++) {
      const date = dateOfDay(d);
      const expected = makeupDays.has(date) || (!offDays.has(date) && !isWeekendDay(d));
      if (cal.isWorkingDay(date) !== expected) wrong.push(date);
    }

    // Assess
    expect(to - from + 1).toBe(1096);
    expect(wrong).toEqual([]);
  });

  it('should count the working days of 2025 as the notice implies (248 = 365 − 104 weekend days − 18 weekday holidays + 5 make-up days)', () => {
    // Prepare: counted independently from the notice data above.
    let expected = 0;
    for (let d = dayNumber('2025-01-01'); d <= dayNumber('2025-12-31'); d++) {
      const date = dateOfDay(d);
      if (makeupDays.has(date) || (!offDays.has(date) && !isWeekendDay(d))) expected++;
    }

    // Act
    const counted = cal.workingDaysBetween('2024-12-31', '2025-12-31');

    // Assess
    expect(counted).toEqual({ days: expected, provisional: false });
    expect(counted.days).toBe(248);
  });

  it('should name the holidays (中秋 2025-10-06 inside the National Day block)', () => {
    // Assess
    expect(cal.dayInfo('2025-10-06')).toEqual({ date: '2025-10-06', working: false, kind: 'holiday', name: '中秋' });
    expect(cal.dayInfo('2026-02-17')).toMatchObject({ working: false, kind: 'holiday', name: '春节' });
    expect(cal.dayInfo('2025-10-09')).toEqual({ date: '2025-10-09', working: true, kind: 'workday' });
    expect(cal.dayInfo('2025-10-12')).toEqual({ date: '2025-10-12', working: false, kind: 'weekend' });
  });
});
