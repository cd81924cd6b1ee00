import { describe, expect, it } from 'vitest';
import { type AggregateRecord, emptyCounters, type Target } from '#core/sla/metrics.ts';
import { buildReport, checkPeriod, displayWidth, renderReport } from '#core/sla/report.ts';

function rec(day: string, department: string, counters: Partial<AggregateRecord>): AggregateRecord {
  return {
    day,
    department,
    category: 'ZF-01',
    street: 'street-pingshan',
    channel: 'web',
    ...emptyCounters(),
    ...counters,
  };
}

// The published example of ../shared/brief/domain.md: 23,974 / 24,932 closed, 22,345 on time.
const records: AggregateRecord[] = [
  rec('2025-11-03', 'zhujian', { received: 20_000, dueToClose: 20_000, dueClosed: 19_500, dueClosedOnTime: 18_000 }),
  rec('2025-11-04', 'chengguan', { received: 4_932, dueToClose: 4_932, dueClosed: 4_474, dueClosedOnTime: 4_345 }),
  rec('2025-12-01', 'zhujian', { received: 7 }),
];
const targets: Target[] = [
  { year: 2025, scope: 'city', rates: { closeRate: 0.99, onTimeCloseRate: 0.95 } },
  { year: 2025, scope: 'department', department: 'zhujian', rates: { onTimeCloseRate: 0.9 } },
];
const names = { department: (id: string) => ({ zhujian: '区住房和建设局', chengguan: '区城市管理和综合执法局' })[id] };

describe('Function: buildReport', () => {
  it('should compute the period rates and the gap to the city target', () => {
    // Act
    const r = buildReport(records, { from: '2025-11-01', to: '2025-11-30' }, targets);
    // Assess
    expect(r.items).toBe(2);
    expect(r.total.counters.dueClosed).toBe(23_974);
    expect(r.total.rates.closeRate).toBeCloseTo(23_974 / 24_932, 12);
    expect(r.total.rates.onTimeCloseRate).toBeCloseTo(22_345 / 24_932, 12);
    const gaps = Object.fromEntries((r.total.gaps ?? []).map((g) => [g.metric, g]));
    expect(gaps.closeRate?.met).toBe(false);
    expect(gaps.closeRate?.gap).toBeCloseTo(23_974 / 24_932 - 0.99, 12);
  });

  it('should group by department with each department judged on its own targets', () => {
    // Act
    const r = buildReport(records, { from: '2025-11-01', to: '2025-11-30', by: 'department' }, targets, names);
    // Assess
    expect(r.rows.map((x) => [x.group, x.name])).toEqual([
      ['chengguan', '区城市管理和综合执法局'],
      ['zhujian', '区住房和建设局'],
    ]);
    const zj = r.rows[1]?.gaps?.find((g) => g.metric === 'onTimeCloseRate');
    expect(zj?.target).toBe(0.9);
    expect(zj?.met).toBe(true);
  });
});

describe('Function: renderReport', () => {
  const report = buildReport(records, { from: '2025-11-01', to: '2025-11-30', by: 'department' }, targets, names);

  it('should print a table with the rates as percentages and the targets', () => {
    // Act
    const text = renderReport(report, 'table');
    // Assess
    expect(text).toContain('考核报表 2025-11-01 至 2025-11-30 · 按承办单位');
    expect(text).toMatch(/合计\s+24932\s+24932\s+23974\s+96\.16%\s+89\.62%/);
    expect(text).toContain('年度目标 2025 (全市)');
    expect(text).toMatch(/办结率\s+99\.00%\s+96\.16%\s+-2\.84 个百分点\s+否/);
    expect(text).toMatch(/区城市管理和综合执法局\s+0\/2\s+办结率/);
  });

  it('should write CSV with one line per group and a total, and JSON that reads back', () => {
    // Act
    const csv = renderReport(report, 'csv').split('\n');
    const json = JSON.parse(renderReport(report, 'json'));
    // Assess
    expect(csv).toHaveLength(4);
    expect(csv[0]?.startsWith('group,name,received,sameDayClosed,')).toBe(true);
    expect(csv[3]?.startsWith('*,合计,24932,')).toBe(true);
    expect(json.total.counters.dueClosedOnTime).toBe(22_345);
    expect(json.rows).toHaveLength(2);
  });
});

describe('Function: checkPeriod', () => {
  it('should accept a period of dates and explain what is wrong otherwise', () => {
    // Act & Assess
    expect(checkPeriod('2025-01-01', '2025-12-31')).toBeNull();
    expect(checkPeriod('2025-13-01', '2025-12-31')).toMatch(/--from/);
    expect(checkPeriod('2025-01-01', undefined)).toMatch(/--to/);
    expect(checkPeriod('2025-02-01', '2025-01-01')).toMatch(/before/);
  });

  it('should count CJK characters as two columns', () => {
    // Act & Assess
    expect(displayWidth('办结率 96%')).toBe(10);
  });
});
