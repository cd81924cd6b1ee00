import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '#core/calendar/default.ts';
import { parseInstant } from '#core/calendar/shanghai-time.ts';
import { applyExtension, computeDeadlines, type SlaRecord } from '#core/sla/deadlines.ts';
import { resolvePolicy } from '#core/sla/policy.ts';
import {
  type DueIndexKey,
  dueIndexKey,
  dueIndexKeyFor,
  dueQueryUpperBound,
  nextTimerFor,
  parseDueIndexKey,
  recordFired,
  runningClocks,
  type SweepCaseView,
  shardOf,
  sweepDecision,
} from '#core/sla/sweep.ts';

const cal = defaultCalendar();
const standard = resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'standard' });
const SHARDS = 8;

function dispatchedCase(caseId = 'C-20250930-1'): SweepCaseView & { deadlines: SlaRecord } {
  return {
    caseId,
    state: 'dispatched',
    deadlines: computeDeadlines(standard, '2025-09-30T10:00+08:00', cal, { dispatchedAt: '2025-09-30T10:05+08:00' }),
    timestamps: { firstContactAt: null },
  };
}

function keyAt(view: SweepCaseView & { deadlines: SlaRecord }, at: string): DueIndexKey {
  return dueIndexKey(view.caseId, at, view.deadlines.generation, SHARDS);
}

describe('Function: dueIndexKey', () => {
  it('should key a timer as DUE#<shard> / <ISO UTC>#<caseId>#<generation>', () => {
    // Act
    const k = dueIndexKey('C-1', '2025-10-14T23:59:59.999+08:00', 3, 16);

    // Assess
    expect(k.pk).toMatch(/^DUE#(\d|1[0-5])$/);
    expect(k.sk).toBe('2025-10-14T15:59:59.999Z#C-1#3');
    expect(dueIndexKey('C-1', Date.parse('2025-10-14T15:59:59.999Z'), 3, 16)).toEqual(k);
  });

  it('should put a case on the same shard every time and spread cases evenly', () => {
    // Prepare
    const counts = new Array<number>(16).fill(0);

    // Act
    for (let i = 0; i < 3200; i++) counts[shardOf(`2025100${i % 10}${String(i).padStart(6, '0')}`, 16)]! += 1;

    // Assess
    expect(shardOf('C-1', 16)).toBe(shardOf('C-1', 16));
    for (const c of counts) expect(c).toBeGreaterThan(140);
    for (const c of counts) expect(c).toBeLessThan(260);
    expect(() => shardOf('C-1', 0)).toThrow(RangeError);
  });

  it('should sort by due instant and parse back, also for ids containing #', () => {
    // Prepare
    const a = dueIndexKey('A#1', '2025-10-14T08:00+08:00', 2, 1);
    const b = dueIndexKey('B', '2025-10-14T09:00+08:00', 1, 1);

    // Act
    const parsed = parseDueIndexKey(a.sk);

    // Assess
    expect(a.sk < b.sk).toBe(true);
    expect(parsed).toEqual({
      dueAt: '2025-10-14T00:00:00.000Z',
      dueMs: Date.parse('2025-10-14T00:00:00Z'),
      caseId: 'A#1',
      generation: 2,
    });
    expect(a.sk <= dueQueryUpperBound('2025-10-14T08:00+08:00')).toBe(true);
    expect(b.sk <= dueQueryUpperBound('2025-10-14T08:59:59.999+08:00')).toBe(false);
    expect(parseDueIndexKey('garbage')).toBeUndefined();
    expect(parseDueIndexKey('2025-10-14T00:00:00.000Z#C#x')).toBeUndefined();
  });

  it('should index an open case at its next running timer and a case with nothing to come not at all', () => {
    // Prepare
    const view = dispatchedCase();
    const closed = { ...view, state: 'closed' };

    // Act
    const k = dueIndexKeyFor(view, SHARDS);

    // Assess: dispatched → the dispatch clock no longer runs; the sign warning (1 working hour before 14:05 … 15:05) is next.
    expect(k?.sk).toBe(`2025-09-30T07:05:00.000Z#${view.caseId}#1`);
    expect(dueIndexKeyFor(closed, SHARDS)).toBeNull();
    expect(runningClocks('signed', true)).toEqual(['resolve']);
    expect(runningClocks('triage', false)).toEqual(['dispatch']);
  });
});

describe('Function: sweepDecision', () => {
  it('should warn when the warning is due, and do nothing when the same timer comes again', () => {
    // Prepare
    const view = dispatchedCase();
    const entry = dueIndexKeyFor(view, SHARDS)!;

    // Act
    const first = sweepDecision(view, entry, '2025-09-30T15:06+08:00');
    const after = first.action === 'warn' ? { ...view, deadlines: recordFired(view.deadlines, first.timer) } : view;
    const repeated = sweepDecision(after, entry, '2025-09-30T15:07+08:00');

    // Assess
    expect(first).toMatchObject({
      action: 'warn',
      timer: { kind: 'sign', stage: 'warn', step: 1 },
      dueAt: view.deadlines.signDue,
    });
    expect(repeated).toMatchObject({ action: 'stale', reason: 'already-fired' });
    expect(dueIndexKeyFor(after, SHARDS)?.sk).toBe(`2025-09-30T08:05:00.000Z#${view.caseId}#1`);
  });

  it('should breach at the due instant and report how late it is', () => {
    // Prepare
    const view = { ...dispatchedCase(), state: 'signed', timestamps: { firstContactAt: '2025-09-30T11:00+08:00' } };
    const entry = keyAt(view, view.deadlines.resolveDue);
    const warned = { ...view, deadlines: { ...view.deadlines, progress: { ...view.deadlines.progress, resolve: 1 } } };

    // Act
    const early = sweepDecision(warned, entry, '2025-10-14T23:59:59.998+08:00');
    const due = sweepDecision(warned, entry, '2025-10-15T00:00:30+08:00');

    // Assess
    expect(early).toMatchObject({ action: 'stale', reason: 'not-yet-due' });
    expect(due).toMatchObject({
      action: 'breach',
      timer: { kind: 'resolve', step: 2 },
      dueAt: '2025-10-14T23:59:59.999+08:00',
    });
    expect(due.action === 'breach' && due.overdueMs).toBe(30_001);
  });

  it('should act only on the latest past step when the sweep was late (no warning after a breach, one chase)', () => {
    // Prepare
    const view = { ...dispatchedCase(), state: 'signed', timestamps: { firstContactAt: '2025-09-30T11:00+08:00' } };
    const warnAt = view.deadlines.timeline.find((t) => t.kind === 'resolve' && t.stage === 'warn')!.at;
    const entry = keyAt(view, warnAt);

    // Act: two chases (10-15 15:00, 10-16 10:00) are past at 10-16 12:00.
    const d = sweepDecision(view, entry, '2025-10-16T12:00+08:00');

    // Assess
    expect(d).toMatchObject({
      action: 'chase',
      timer: { kind: 'resolve', stage: 'chase', step: 4, at: '2025-10-16T10:00:00.000+08:00' },
    });
  });

  it('should do nothing for an entry of an older generation (the deadline was extended)', () => {
    // Prepare
    const view = { ...dispatchedCase(), state: 'signed', timestamps: { firstContactAt: '2025-09-30T11:00+08:00' } };
    const oldEntry = keyAt(view, view.deadlines.resolveDue);
    const ext = applyExtension(view.deadlines, '2025-10-21', { policy: standard, calendar: cal });
    if (!ext.ok) throw ext.error;
    const extended = { ...view, deadlines: ext.record };

    // Act
    const d = sweepDecision(extended, oldEntry, '2025-10-15T00:01+08:00');

    // Assess
    expect(d).toMatchObject({ action: 'stale', reason: 'generation' });
    expect(d.action === 'stale' && d.next?.at).toBe('2025-10-21T00:00:00.000+08:00');
  });

  it('should do nothing when the state moved on (signed before the sign breach)', () => {
    // Prepare
    const view = dispatchedCase();
    const entry = keyAt(view, view.deadlines.signDue);
    const signed = { ...view, state: 'signed' };

    // Act
    const d = sweepDecision(signed, entry, '2025-09-30T16:10+08:00');

    // Assess
    expect(d).toMatchObject({ action: 'stale', reason: 'state-moved', next: { kind: 'contact', stage: 'warn' } });
  });

  it.each([
    [
      'another case',
      (v: SweepCaseView & { deadlines: SlaRecord }) => ({
        sk: keyAt({ ...v, caseId: 'other' }, v.deadlines.signDue).sk,
      }),
      'case-mismatch',
    ],
    ['a malformed key', () => ({ sk: 'nonsense' }), 'malformed-entry'],
    [
      'an instant with no timer',
      (v: SweepCaseView & { deadlines: SlaRecord }) => keyAt(v, '2025-10-01T03:00+08:00'),
      'timer-moved',
    ],
  ])('should do nothing for an entry of %s', (_label, make, reason) => {
    // Prepare
    const view = dispatchedCase();

    // Act
    const d = sweepDecision(view, make(view), '2025-12-01T00:00+08:00');

    // Assess
    expect(d).toMatchObject({ action: 'stale', reason });
  });

  it('should do nothing for a case without deadlines', () => {
    // Act
    const d = sweepDecision(
      { caseId: 'C', state: 'dispatched', deadlines: {} },
      { sk: '2025-10-14T00:00:00.000Z#C#1' },
      0,
    );

    // Assess
    expect(d).toEqual({ action: 'stale', reason: 'no-deadlines', next: null });
  });
});

describe('Simulation: a sweep every 5 minutes, run twice each time, with stale index entries fed back hourly', () => {
  it('should emit each warning, breach and chase exactly once, stop chasing at the bound, and stop when the case moves', () => {
    // Prepare: case A is never touched; case B signs and contacts on 10-09 10:00 and resolves on 10-13 11:00.
    const cases = new Map<string, SweepCaseView & { deadlines: SlaRecord }>([
      ['A', dispatchedCase('A')],
      ['B', dispatchedCase('B')],
    ]);
    const index = new Map<string, DueIndexKey>();
    const ghosts: DueIndexKey[] = [];
    const reindex = (id: string) => {
      const old = index.get(id);
      if (old) ghosts.push(old);
      const k = dueIndexKeyFor(cases.get(id)!, SHARDS);
      if (k) index.set(id, k);
      else index.delete(id);
    };
    for (const id of cases.keys()) reindex(id);
    const events: string[] = [];
    const staleReasons = new Set<string>();
    const start = parseInstant('2025-09-30T10:05+08:00');
    const end = parseInstant('2025-10-31T00:00+08:00');

    // Act
    for (let now = start; now <= end; now += 5 * 60_000) {
      if (now === parseInstant('2025-10-09T10:00+08:00')) {
        const b = cases.get('B')!;
        cases.set('B', { ...b, state: 'signed', timestamps: { firstContactAt: '2025-10-09T10:00+08:00' } });
        reindex('B');
      }
      if (now === parseInstant('2025-10-13T11:00+08:00')) {
        cases.set('B', { ...cases.get('B')!, state: 'resolved' });
        reindex('B');
      }
      for (let run = 0; run < 2; run++) {
        const bound = dueQueryUpperBound(now);
        // Stale entries (the GSI lags behind the table) come back once an hour.
        const hourly = (now - start) % 3_600_000 === 0;
        for (const entry of [...index.values(), ...(hourly ? ghosts : [])].filter((k) => k.sk <= bound)) {
          const id = parseDueIndexKey(entry.sk)!.caseId;
          const view = cases.get(id)!;
          const d = sweepDecision(view, entry, now);
          if (d.action === 'stale') {
            staleReasons.add(d.reason);
            continue;
          }
          events.push(`${id} ${d.timer.kind} ${d.action} ${d.timer.step}`);
          cases.set(id, { ...view, deadlines: recordFired(view.deadlines, d.timer) });
          reindex(id);
        }
      }
    }

    // Assess
    const chases = (who: string, kind: string) => [3, 4, 5].map((s) => `${who} ${kind} chase ${s}`);
    expect(events.filter((e) => e.startsWith('A '))).toEqual([
      'A sign warn 1',
      'A sign breach 2',
      'A sign chase 3',
      'A contact warn 1',
      'A sign chase 4',
      'A contact breach 2',
      'A sign chase 5',
      ...chases('A', 'contact'),
      'A resolve warn 1',
      'A resolve breach 2',
      ...chases('A', 'resolve'),
    ]);
    expect(events.filter((e) => e.startsWith('B '))).toEqual(['B sign warn 1', 'B sign breach 2']);
    expect(new Set(events).size).toBe(events.length);
    expect([...staleReasons].sort()).toEqual(['already-fired', 'state-moved']);
    expect(ghosts.length).toBeGreaterThan(15);
    expect(index.has('A')).toBe(false);
    expect(nextTimerFor(cases.get('A')!)).toBeUndefined();
  });
});
