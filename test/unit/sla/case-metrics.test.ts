import { describe, expect, it } from 'vitest';
import { type Case, oweCreation, owesMetrics } from '#core/case.ts';
import {
  type AggregateSink,
  caseMetricView,
  caseTransitionDeltas,
  countOwed,
  defaultMetricsContext,
  metricsToken,
  owedTransitions,
  oweTransition,
  recordCaseMetrics,
  recordingCreations,
  type TransitionSink,
} from '#core/sla/case-metrics.ts';
import { triageDeadlines } from '#core/sla/case-sla.ts';
import { type AggregateDelta, type AggregateRecord, applyDeltas, summarize } from '#core/sla/metrics.ts';
import { compareAggregates, recountAggregates } from '#core/sla/recount.ts';
import { dept, makeCase, step, supervisor } from './case-fixtures.ts';

const ctx = defaultMetricsContext();

/** Walks a case through its steps, ADDing every transition's deltas to `table`; returns the final case. */
function walk(
  table: { aggs: Record<string, AggregateRecord> },
  first: Case,
  steps: [Parameters<typeof step>[1], Parameters<typeof step>[2], string][],
): Case {
  table.aggs = applyDeltas(table.aggs, caseTransitionDeltas(null, first, ctx));
  let c = first;
  for (const [action, actor, at] of steps) {
    const next = step(c, action, actor, at);
    table.aggs = applyDeltas(table.aggs, caseTransitionDeltas(c, next, ctx));
    c = next;
  }
  return c;
}

const z = (d: string, t: string) => `2025-11-${d}T${t}:00.000+08:00`;

/**
 * Five cases of November 2025 (standard policy: sign 4 working hours, contact 1 working day, resolve 5 working days):
 * A  web, 住建, received Mon 03 09:00: signed, contacted, resolved the same day 16:00; 满意.
 * B  hotline, 住建, received Mon 03 10:00: signed 16:30 (due 16:05, late), contacted Wed 05 (due Tue 04, late),
 *    resolved Wed 12 (due Mon 10, late); 基本满意.
 * C  web, 城管, received Tue 04 09:00: on time, extension to Fri 14 approved, resolved Thu 13; 不满意 → 重办 on Fri 14
 *    with new limits; signed, contacted, resolved Mon 17 (due Fri 21); 满意.
 * D  manual triage, then 不予受理: counted nowhere.
 * E  web, 住建, received Wed 05 09:00: dispatched, nothing since (due to sign and to close, not done).
 */
function november(): { aggs: Record<string, AggregateRecord>; finals: Case[] } {
  const table = { aggs: {} as Record<string, AggregateRecord> };
  const zj = dept('zhujian');
  const cg = dept('chengguan');
  const a = walk(table, makeCase({ caseId: 'A', trackingNo: 'A' }), [
    [{ type: 'sign' }, zj, z('03', '10:00')],
    [{ type: 'contact' }, zj, z('03', '11:00')],
    [{ type: 'resolve', text: '已修复' }, zj, z('03', '16:00')],
    [{ type: 'approveClosure' }, supervisor, z('03', '17:00')],
    [{ type: 'recordFollowUp', satisfaction: '满意', resolved: true }, supervisor, z('04', '10:00')],
  ]);
  const bBase = makeCase({
    caseId: 'B',
    trackingNo: 'B',
    channel: 'hotline',
    receivedAt: z('03', '10:00'),
    dispatchedAt: z('03', '10:05'),
    deadlines: undefined,
  });
  const b = walk(table, { ...bBase, deadlines: triageDeadlines(bBase, { slaPolicy: 'standard' }) as never }, [
    [{ type: 'sign' }, zj, z('03', '16:30')],
    [{ type: 'contact' }, zj, z('05', '09:00')],
    [{ type: 'resolve', text: '已修复' }, zj, z('12', '10:00')],
    [{ type: 'approveClosure' }, supervisor, z('12', '11:00')],
    [{ type: 'recordFollowUp', satisfaction: '基本满意', resolved: true }, supervisor, z('13', '10:00')],
  ]);
  const cBase = makeCase({
    caseId: 'C',
    trackingNo: 'C',
    department: 'chengguan',
    category: 'SZ-01',
    receivedAt: z('04', '09:00'),
    dispatchedAt: z('04', '09:05'),
    deadlines: undefined,
  });
  const c = walk(table, { ...cBase, deadlines: triageDeadlines(cBase, { slaPolicy: 'standard' }) as never }, [
    [{ type: 'sign' }, cg, z('04', '09:30')],
    [{ type: 'contact' }, cg, z('04', '10:00')],
    [
      { type: 'requestExtension', reason: '需更换灯杆', newDueAt: '2025-11-14T23:59:59.999+08:00' },
      cg,
      z('07', '10:00'),
    ],
    [{ type: 'approveExtension' }, supervisor, z('07', '11:00')],
    [{ type: 'resolve', text: '已更换' }, cg, z('13', '15:00')],
    [{ type: 'approveClosure' }, supervisor, z('13', '16:00')],
    [{ type: 'recordFollowUp', satisfaction: '不满意', resolved: false }, supervisor, z('14', '10:00')],
    [{ type: 'sign' }, cg, z('14', '10:30')],
    [{ type: 'contact' }, cg, z('14', '11:00')],
    [{ type: 'resolve', text: '已再次修复' }, cg, z('17', '10:00')],
    [{ type: 'approveClosure' }, supervisor, z('17', '11:00')],
    [{ type: 'recordFollowUp', satisfaction: '满意', resolved: true }, supervisor, z('18', '10:00')],
  ]);
  const dBase = makeCase({
    caseId: 'D',
    trackingNo: 'D',
    state: 'triage',
    department: 'centre',
    category: undefined,
    dispatchedAt: undefined,
    receivedAt: z('05', '08:00'),
    deadlines: undefined,
  });
  const d = walk(table, { ...dBase, deadlines: triageDeadlines(dBase, undefined) as never }, [
    [{ type: 'reject', reason: '不属于受理范围' }, supervisor, z('05', '09:00')],
  ]);
  const eBase = makeCase({
    caseId: 'E',
    trackingNo: 'E',
    receivedAt: z('05', '09:00'),
    dispatchedAt: z('05', '09:05'),
    deadlines: undefined,
  });
  const e = walk(table, { ...eBase, deadlines: triageDeadlines(eBase, { slaPolicy: 'standard' }) as never }, []);
  return { aggs: table.aggs, finals: [a, b, c, d, e] };
}

describe('Function: caseTransitionDeltas', () => {
  it('should match the hand-computed counters and rates of the November fixture', () => {
    // Act
    const { aggs } = november();
    const [all] = summarize(Object.values(aggs), { from: '2025-11-01', to: '2025-11-30' });
    // Assess
    expect(all?.counters).toEqual({
      received: 4,
      sameDayClosed: 1,
      dueToSign: 4,
      signedOnTime: 2,
      dueToContact: 4,
      contactedOnTime: 2,
      dueToClose: 4,
      dueClosed: 3,
      dueClosedOnTime: 2,
      closed: 3,
      // A 7 h; B 9 d; C 13 d 1 h.
      handlingMs: (7 + 9 * 24 + 13 * 24 + 1) * 3_600_000,
      // A 0 (same day); B Tue 04 … Wed 12 = 7; C Wed 05 … Mon 17 = 9.
      handlingWorkingDays: 16,
      reopenedClosed: 1,
      followUps: 3,
      followUpResolved: 3,
      satisfied: 2,
      basicallySatisfied: 1,
      dissatisfied: 0,
    });
    expect(all?.rates.closeRate).toBe(0.75);
    expect(all?.rates.onTimeCloseRate).toBe(0.5);
    expect(all?.rates.sameDayRate).toBe(0.25);
    expect(all?.rates.signOnTimeRate).toBe(0.5);
    expect(all?.rates.resolutionRate).toBe(1);
    expect(all?.rates.reopenRate).toBeCloseTo(1 / 3, 12);
    expect(all?.rates.avgHandlingDays).toBeCloseTo((22 + 8 / 24) / 3, 12);
    expect(all?.rates.avgHandlingWorkingDays).toBeCloseTo(16 / 3, 12);
  });

  it('should put each case under its department and its days', () => {
    // Act
    const { aggs } = november();
    const byDept = summarize(Object.values(aggs), { from: '2025-11-01', to: '2025-11-30', by: 'department' });
    const byDay = summarize(Object.values(aggs), { from: '2025-11-03', to: '2025-11-03', by: 'day' });
    // Assess: D (centre → rejected) is counted nowhere; its bucket nets to zero.
    const rows = Object.fromEntries(byDept.map((r) => [r.group, r.counters]));
    expect(rows.zhujian?.received).toBe(3);
    expect(rows.chengguan?.received).toBe(1);
    expect(rows.centre?.received ?? 0).toBe(0);
    expect(rows.zhujian?.dueClosedOnTime).toBe(1);
    expect(rows.chengguan?.reopenedClosed).toBe(1);
    expect(byDay[0]?.counters.received).toBe(2);
    expect(byDay[0]?.counters.sameDayClosed).toBe(1);
  });

  it('should telescope: the deltas of every step add up to the final case counted afresh', () => {
    // Prepare
    const { aggs, finals } = november();
    // Act
    const fresh = applyDeltas(
      {},
      finals.flatMap((c) => caseTransitionDeltas(null, c, ctx)),
    );
    // Assess
    const nonZero = (t: Record<string, AggregateRecord>) =>
      Object.fromEntries(
        Object.entries(t)
          .map(([id, r]) => [id, Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 0))])
          .filter(([, r]) => Object.keys(r as object).length > 5),
      );
    expect(nonZero(aggs)).toEqual(nonZero(fresh));
  });
});

describe('Function: caseMetricView', () => {
  it('should count sign and contact only once the case reached a department', () => {
    // Prepare
    const base = makeCase({ state: 'triage', department: 'centre', dispatchedAt: undefined, deadlines: undefined });
    const waiting = { ...base, deadlines: triageDeadlines(base, undefined) as never };
    // Act
    const v = caseMetricView(waiting, ctx);
    // Assess
    expect(v.signDue).toBeNull();
    expect(v.contactDue).toBeNull();
    expect(v.resolveDue).toBe('2025-11-10T23:59:59.999+08:00');
    expect(v.street).toBe('street-pingshan');
  });
});

describe('Function: recordCaseMetrics', () => {
  it('should ADD each transition once under its token, however often it is replayed', async () => {
    // Prepare: a sink that honours tokens per item, as DynamoStore does with its condition.
    const seen = new Map<string, Set<string>>();
    let aggs: Record<string, AggregateRecord> = {};
    const sink: AggregateSink = {
      addToAggregates: async (deltas: readonly AggregateDelta[], token?: string) => {
        let applied = 0;
        let skipped = 0;
        for (const d of deltas) {
          const tokens = seen.get(d.id) ?? new Set<string>();
          if (token && tokens.has(token)) {
            skipped++;
            continue;
          }
          if (token) tokens.add(token);
          seen.set(d.id, tokens);
          aggs = applyDeltas(aggs, [d]);
          applied++;
        }
        return { applied, skipped };
      },
    };
    const c = makeCase();
    const signed = step(c, { type: 'sign' }, dept('zhujian'), z('03', '10:00'));
    // Act
    await recordCaseMetrics(sink, null, c);
    await recordCaseMetrics(sink, null, c);
    await recordCaseMetrics(sink, c, signed);
    const again = await recordCaseMetrics(sink, c, signed);
    // Assess
    expect(again).toBe(0);
    const [all] = summarize(Object.values(aggs), { from: '2025-11-01', to: '2025-11-30' });
    expect(all?.counters.received).toBe(1);
    expect(all?.counters.signedOnTime).toBe(1);
    expect(metricsToken(c, signed)).toBe('20251103000001@2');
  });

  it('should remember the cases a store created, and only those', async () => {
    // Prepare
    const stored = new Map<string, Case>();
    const store = {
      createCase: async (c: Case) => {
        if (stored.has(c.caseId)) return { created: false as const, existing: stored.get(c.caseId) as Case };
        stored.set(c.caseId, c);
        return { created: true as const };
      },
      getCase: async (id: string) => stored.get(id),
      replaceCase: async () => true,
      markAnnounced: async () => undefined,
      markSettled: async () => undefined,
      listDepartmentCases: async () => ({ cases: [] }),
    };
    const created: Case[] = [];
    const wrapped = recordingCreations(store, created);
    // Act
    await wrapped.createCase(makeCase());
    await wrapped.createCase(makeCase());
    // Assess
    expect(created).toHaveLength(1);
    expect(await wrapped.getCase('20251103000001')).toBeDefined();
  });
});

/** A sink that honours tokens per item as DynamoStore does, and fails (throws) after `budget` item updates. */
function flakySink(budget = Number.POSITIVE_INFINITY) {
  const seen = new Map<string, Set<string>>();
  const table = { aggs: {} as Record<string, AggregateRecord>, budget };
  const sink: TransitionSink = {
    addTransitionsToAggregates: async (transitions) => {
      let applied = 0;
      let skipped = 0;
      for (const t of transitions) {
        for (const d of t.deltas) {
          const tokens = seen.get(d.id) ?? new Set<string>();
          if (tokens.has(t.token)) {
            skipped++;
            continue;
          }
          if (table.budget-- <= 0) throw new Error('ProvisionedThroughputExceededException');
          tokens.add(t.token);
          seen.set(d.id, tokens);
          table.aggs = applyDeltas(table.aggs, [d]);
          applied++;
        }
      }
      return { applied, skipped };
    },
  };
  return { sink, table };
}

describe('Functions: oweCreation, oweTransition, owedTransitions, countOwed (the counts as an outbox)', () => {
  it('should owe a new case its creation under the token of its version', () => {
    // Prepare
    const c = oweCreation(makeCase());
    // Act
    const owed = owedTransitions(c, ctx);
    // Assess
    expect(owesMetrics(c)).toBe(true);
    expect(owed.map((t) => t.token)).toEqual([`${c.caseId}@${c.version}`]);
    expect(owed[0]?.deltas).toEqual(caseTransitionDeltas(null, c, ctx));
  });

  it('should chain what stays owed, and count it all once when the store comes back, after partial failures', async () => {
    // Prepare: created; its count fails half-way; signed (the step's own count fails too); contacted; then counted
    const zj = dept('zhujian');
    const { sink, table } = flakySink(1);
    const c1 = oweCreation(makeCase());
    await expect(countOwed(sink, [c1], ctx)).rejects.toThrow();
    const c2 = step(c1, { type: 'sign' }, zj, z('03', '10:00'));
    oweTransition(c1, c2, ctx);
    table.budget = 2;
    await expect(countOwed(sink, [c2], ctx)).rejects.toThrow();
    // A writer that does not count (the sweep, a merge) moves the case on: it carries what is owed unchanged.
    const c3 = { ...c2, version: c2.version + 1, updatedAt: z('03', '10:30') };
    const c4 = step(c3, { type: 'contact' }, zj, z('03', '11:00'));
    oweTransition(c3, c4, ctx);
    table.budget = Number.POSITIVE_INFINITY;
    // Act
    await countOwed(sink, [c4], ctx);
    const once = structuredClone(table.aggs);
    await countOwed(sink, [c4], ctx);
    // Assess: the aggregates hold exactly what a recount of the case as it stands says, once
    expect(c4.metricsOwed?.map((o) => [o.version, o.to])).toEqual([
      [0, c1.version],
      [c1.version, c2.version],
      [c3.version, c4.version],
    ]);
    expect(table.aggs).toEqual(once);
    const stored = new Map(Object.entries(table.aggs).map(([id, r]) => [id, { ...r }]));
    expect(compareAggregates(recountAggregates([c4], { ctx }), stored)).toEqual([]);
    const [all] = summarize(Object.values(table.aggs), { from: '2025-11-01', to: '2025-11-30' });
    expect(all?.counters.received).toBe(1);
    expect(all?.counters.signedOnTime).toBe(1);
  });

  it('should owe nothing once counted and marked (a step from a settled case starts a new chain)', () => {
    // Prepare
    const c1 = makeCase();
    const c2 = step(c1, { type: 'sign' }, dept('zhujian'), z('03', '10:00'));
    // Act
    oweTransition(c1, c2, ctx);
    // Assess
    expect(owesMetrics(c1)).toBe(false);
    expect(owedTransitions(c1, ctx)).toEqual([]);
    expect(c2.metricsOwed).toEqual([{ version: c1.version, view: caseMetricView(c1, ctx), to: c2.version }]);
    expect(owedTransitions(c2, ctx)).toEqual([
      { deltas: caseTransitionDeltas(c1, c2, ctx), token: metricsToken(c1, c2) },
    ]);
  });
});

describe('Function: recountAggregates and compareAggregates', () => {
  const storedOf = (aggs: Record<string, AggregateRecord>) =>
    new Map(Object.entries(aggs).map(([id, r]) => [id, { ...r }]));

  it('should find nothing to say when every transition was counted once', () => {
    // Prepare
    const { aggs, finals } = november();
    // Act
    const recount = recountAggregates(finals, { ctx });
    // Assess
    expect(recount.cases).toBe(5);
    expect(compareAggregates(recount, storedOf(aggs))).toEqual([]);
  });

  it('should name a counter counted twice and an item lost, with both values', () => {
    // Prepare
    const { aggs, finals } = november();
    const stored = storedOf(aggs);
    const ids = [...stored.keys()].filter((id) => (stored.get(id)?.received ?? 0) > 0).sort();
    const [doubled, lost] = ids as [string, string];
    const was = stored.get(doubled)!.received;
    stored.get(doubled)!.received = was + 1;
    const lostReceived = stored.get(lost)!.received;
    stored.delete(lost);
    // Act
    const found = compareAggregates(recountAggregates(finals, { ctx }), stored);
    // Assess
    expect(found.map((m) => m.id)).toEqual([doubled, lost].sort());
    expect(found.find((m) => m.id === doubled)?.counters.received).toEqual({ expected: was, stored: was + 1 });
    expect(found.find((m) => m.id === lost)?.counters.received).toEqual({ expected: lostReceived, stored: 0 });
  });

  it('should leave out the items of a case changed within the grace period', () => {
    // Prepare: every item of case A counted wrong
    const { aggs, finals } = november();
    const stored = storedOf(aggs);
    const recount = recountAggregates(finals, { ctx, unsettled: (c) => c.caseId === 'A' });
    for (const id of recount.unsettled) if (stored.has(id)) stored.get(id)!.received += 5;
    // Act
    const found = compareAggregates(recount, stored);
    // Assess
    expect(recount.unsettled.size).toBeGreaterThan(0);
    expect(found).toEqual([]);
  });
});
