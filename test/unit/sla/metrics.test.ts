import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '#core/calendar/default.ts';
import {
  type AggregateRecord,
  aggregateId,
  applyTransitionToAggregates,
  type CaseMetricView,
  computeRates,
  emptyCounters,
  formatRate,
  gapToTarget,
  shippedTargets,
  summarize,
  targetFor,
  transitionDeltas,
} from '#core/sla/metrics.ts';

const ctx = { calendar: defaultCalendar() };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const blank: CaseMetricView = {
  department: null,
  category: null,
  street: null,
  channel: null,
  receivedAt: '2025-09-29T09:00+08:00',
  excluded: false,
  signDue: null,
  signedAt: null,
  contactDue: null,
  firstContactAt: null,
  resolveDue: null,
  resolvedAt: null,
  closedAt: null,
  reopenCount: 0,
  followUpAt: null,
  satisfaction: null,
  resolvedFlag: null,
};
const zhujian = { department: 'zhujian', category: 'CJ-01', street: '坪山街道', channel: 'hotline' };
const chengguan = { department: 'chengguan', category: 'CG-01', street: '马峦街道', channel: 'wechat' };

/** Case 1: signed, contacted and resolved the same day (当日清), satisfied. */
const c1: CaseMetricView = {
  ...blank,
  ...zhujian,
  receivedAt: '2025-09-29T09:00+08:00',
  signDue: '2025-09-29T13:00+08:00',
  signedAt: '2025-09-29T09:30+08:00',
  contactDue: '2025-09-30T23:59:59.999+08:00',
  firstContactAt: '2025-09-29T10:00+08:00',
  resolveDue: '2025-10-09T23:59:59.999+08:00',
  resolvedAt: '2025-09-29T16:00+08:00',
  followUpAt: '2025-09-30T10:00+08:00',
  satisfaction: '满意',
  resolvedFlag: true,
};

/** Case 2: signed late, never contacted, resolved a day late after a reopen, 基本满意 but "not resolved". */
const c2: CaseMetricView = {
  ...blank,
  ...zhujian,
  receivedAt: '2025-09-29T15:00+08:00',
  signDue: '2025-09-30T10:00+08:00',
  signedAt: '2025-09-30T11:00+08:00',
  contactDue: '2025-10-09T23:59:59.999+08:00',
  resolveDue: '2025-10-09T23:59:59.999+08:00',
  resolvedAt: '2025-10-10T10:00+08:00',
  reopenCount: 1,
  followUpAt: '2025-10-11T10:00+08:00',
  satisfaction: '基本满意',
  resolvedFlag: false,
};

/** Case 3: still open, due 2025-10-14. */
const c3: CaseMetricView = {
  ...blank,
  ...chengguan,
  receivedAt: '2025-09-30T20:00+08:00',
  signDue: '2025-10-09T10:00+08:00',
  contactDue: '2025-10-09T23:59:59.999+08:00',
  resolveDue: '2025-10-14T23:59:59.999+08:00',
};

/** Case 4: a consultation answered on the spot (直接答复). */
const c4: CaseMetricView = {
  ...blank,
  ...chengguan,
  receivedAt: '2025-09-30T09:00+08:00',
  closedAt: '2025-09-30T09:10+08:00',
};

/** Case 5: 不予受理. */
const c5: CaseMetricView = { ...blank, ...chengguan, excluded: true, closedAt: '2025-09-30T09:10+08:00' };

function build(views: CaseMetricView[]): Record<string, AggregateRecord> {
  let table: Record<string, AggregateRecord> = {};
  for (const v of views) table = applyTransitionToAggregates(table, { before: null, after: v }, ctx);
  return table;
}

describe('Function: computeRates', () => {
  it('should reproduce the published example: 23,974 / 24,932 = 96.16% and 22,345 / 24,932 = 89.62%', () => {
    // Prepare: the counts split over two days and two departments, as stored.
    const key = { category: '-', street: '-', channel: 'hotline' };
    const records: AggregateRecord[] = [
      {
        ...emptyCounters(),
        ...key,
        day: '2025-06-01',
        department: 'a',
        dueToClose: 12_000,
        dueClosed: 11_500,
        dueClosedOnTime: 10_800,
      },
      {
        ...emptyCounters(),
        ...key,
        day: '2025-06-02',
        department: 'b',
        dueToClose: 12_932,
        dueClosed: 12_474,
        dueClosedOnTime: 11_545,
      },
    ];

    // Act
    const [all] = summarize(records, { from: '2025-06-01', to: '2025-06-30' });

    // Assess
    expect(all?.counters.dueToClose).toBe(24_932);
    expect(formatRate(all!.rates.closeRate)).toBe('96.16%');
    expect(formatRate(all!.rates.onTimeCloseRate)).toBe('89.62%');
  });

  it('should answer null, not NaN, where nothing was due', () => {
    // Act
    const r = computeRates(emptyCounters());

    // Assess
    expect(Object.values(r).every((v) => v === null)).toBe(true);
    expect(formatRate(r.closeRate)).toBe('-');
  });
});

describe('Function: applyTransitionToAggregates', () => {
  it('should match the hand-computed fixture over the whole period', () => {
    // Act
    const [all] = summarize(Object.values(build([c1, c2, c3, c4, c5])), { from: '2025-09-01', to: '2025-10-31' });

    // Assess
    expect(all!.counters).toEqual({
      received: 4,
      sameDayClosed: 2,
      dueToSign: 3,
      signedOnTime: 1,
      dueToContact: 3,
      contactedOnTime: 1,
      dueToClose: 4,
      dueClosed: 3,
      dueClosedOnTime: 2,
      closed: 3,
      handlingMs: 7 * HOUR + (10 * DAY + 19 * HOUR) + 10 * 60_000,
      handlingWorkingDays: 3, // case 2: 09-30, 10-09, 10-10 (10-01..08 are holidays)
      reopenedClosed: 1,
      followUps: 2,
      followUpResolved: 1,
      satisfied: 1,
      basicallySatisfied: 1,
      dissatisfied: 0,
    });
    expect(all!.rates).toEqual({
      closeRate: 3 / 4,
      onTimeCloseRate: 2 / 4,
      sameDayRate: 2 / 4,
      signOnTimeRate: 1 / 3,
      contactOnTimeRate: 1 / 3,
      resolutionRate: 1 / 2,
      satisfactionRate: 1,
      reopenRate: 1 / 3,
      avgHandlingDays: (7 * HOUR + 10 * DAY + 19 * HOUR + 10 * 60_000) / 3 / DAY,
      avgHandlingWorkingDays: 1,
    });
    expect(
      summarize(Object.values(build([c1, c2])), {
        from: '2025-09-01',
        to: '2025-10-31',
        rateOptions: { basicallySatisfiedWeight: 0.6 },
      })[0]!.rates.satisfactionRate,
    ).toBeCloseTo(0.8);
  });

  it('should count a case as due on the earlier of its deadline and its closure (应办结)', () => {
    // Act: 09-29..10-09 holds c1 (closed early), c4 (answered) and c2 (due 10-09, closed late on 10-10), not c3 (due 10-14).
    const [p] = summarize(Object.values(build([c1, c2, c3, c4])), { from: '2025-09-29', to: '2025-10-09' });

    // Assess
    expect(p!.counters.dueToClose).toBe(3);
    expect(p!.counters.dueClosed).toBe(3);
    expect(p!.counters.dueClosedOnTime).toBe(2);
    expect(p!.counters.closed).toBe(2);
    expect(formatRate(p!.rates.onTimeCloseRate)).toBe('66.67%');
  });

  it('should group by department and by day', () => {
    // Prepare
    const table = Object.values(build([c1, c2, c3, c4]));

    // Act
    const byDept = summarize(table, { from: '2025-09-01', to: '2025-10-31', by: 'department' });
    const byDay = summarize(table, { from: '2025-09-29', to: '2025-09-30', by: 'day' });
    const onlyWechat = summarize(table, { from: '2025-09-01', to: '2025-10-31', where: { channel: 'wechat' } });

    // Assess
    expect(byDept.map((r) => [r.group, r.counters.received, r.rates.closeRate, r.rates.onTimeCloseRate])).toEqual([
      ['chengguan', 2, 0.5, 0.5],
      ['zhujian', 2, 1, 0.5],
    ]);
    expect(byDay.map((r) => [r.group, r.counters.received, r.counters.sameDayClosed])).toEqual([
      ['2025-09-29', 2, 1],
      ['2025-09-30', 2, 1],
    ]);
    expect(onlyWechat[0]!.counters.received).toBe(2);
  });

  it('should reach the same aggregates through every intermediate transition as from the final views', () => {
    // Prepare: case 2's life, step by step, including a reopen that takes it out of "closed" again.
    const dispatched: CaseMetricView = {
      ...c2,
      signedAt: null,
      resolvedAt: null,
      reopenCount: 0,
      followUpAt: null,
      satisfaction: null,
      resolvedFlag: null,
      resolveDue: '2025-10-09T23:59:59.999+08:00',
    };
    const extended: CaseMetricView = { ...dispatched, resolveDue: '2025-10-20T23:59:59.999+08:00' };
    const steps: CaseMetricView[] = [
      dispatched,
      extended,
      { ...dispatched, signedAt: c2.signedAt }, // extension withdrawn by a correction: due back to 10-09
      { ...dispatched, signedAt: c2.signedAt, resolvedAt: '2025-10-08T10:00+08:00' },
      {
        ...dispatched,
        signedAt: c2.signedAt,
        resolvedAt: '2025-10-08T10:00+08:00',
        followUpAt: '2025-10-08T15:00+08:00',
        satisfaction: '不满意',
        resolvedFlag: false,
      },
      { ...dispatched, signedAt: c2.signedAt, reopenCount: 1 },
      c2,
    ];
    let table: Record<string, AggregateRecord> = {};
    let before: CaseMetricView | null = null;

    // Act
    for (const after of steps) {
      table = applyTransitionToAggregates(table, { before, after }, ctx);
      before = after;
    }

    // Assess
    const direct = build([c2]);
    const nonZero = (t: Record<string, AggregateRecord>) =>
      Object.fromEntries(
        Object.entries(t).filter(([, r]) =>
          Object.entries(r).some(([k, v]) => typeof v === 'number' && v !== 0 && k !== 'day'),
        ),
      );
    expect(nonZero(table)).toEqual(direct);
  });

  it('should change nothing for a replayed transition and undo itself when reversed', () => {
    // Prepare
    const table = build([c1, c3]);

    // Act
    const replay = transitionDeltas({ before: c1, after: c1 }, ctx);
    const undone = applyTransitionToAggregates(
      applyTransitionToAggregates(table, { before: c1, after: null }, ctx),
      { before: c3, after: null },
      ctx,
    );

    // Assess
    expect(replay).toEqual([]);
    for (const r of Object.values(undone))
      expect(summarize([r], { from: r.day, to: r.day })[0]!.counters).toEqual(emptyCounters());
  });

  it('should move a case to the new department on re-dispatch', () => {
    // Prepare
    const before = { ...c3 };
    const after = { ...c3, department: 'zhujian' };

    // Act
    const deltas = transitionDeltas({ before, after }, ctx);

    // Assess
    expect(deltas.every((d) => Object.values(d.counters).every((v) => v === 1 || v === -1))).toBe(true);
    expect(deltas.filter((d) => d.key.department === 'chengguan').flatMap((d) => Object.values(d.counters))).toEqual([
      -1, -1, -1, -1,
    ]);
    expect(deltas.filter((d) => d.key.department === 'zhujian').flatMap((d) => Object.values(d.counters))).toEqual([
      1, 1, 1, 1,
    ]);
  });

  it('should key aggregates per day and dimensions, escaping #', () => {
    // Assess
    expect(aggregateId({ day: '2025-10-01', department: 'a#b', category: '-', street: '街道', channel: 'web' })).toBe(
      'AGG#2025-10-01#a%23b#-#街道#web',
    );
  });
});

describe('Function: gapToTarget', () => {
  it('should take the department target over the city target and measure the gap', () => {
    // Prepare
    const target = targetFor(shippedTargets(), 2025, 'zhujian');
    const [zj] = summarize(Object.values(build([c1, c2])), { from: '2025-09-01', to: '2025-10-31', by: 'department' });

    // Act
    const gaps = gapToTarget(zj!.rates, target);

    // Assess
    expect(target.onTimeCloseRate).toBe(0.93);
    expect(target.closeRate).toBe(0.99);
    const onTime = gaps.find((g) => g.metric === 'onTimeCloseRate');
    expect(onTime).toMatchObject({ label: '按时办结率', actual: 0.5, target: 0.93, met: false });
    expect(onTime?.gap).toBeCloseTo(-0.43);
    expect(gaps.find((g) => g.metric === 'reopenRate')).toMatchObject({ actual: 0.5, target: 0.03, met: false });
    expect(gaps.find((g) => g.metric === 'closeRate')).toMatchObject({ actual: 1, met: true });
    expect(targetFor(shippedTargets(), 2024)).toEqual({});
  });
});
