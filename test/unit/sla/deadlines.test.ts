import { describe, expect, it } from 'vitest';
import officialFile from '#config/calendar/official-cn.json' with { type: 'json' };
import { defaultCalendar } from '#core/calendar/default.ts';
import { WorkingCalendar } from '#core/calendar/working-calendar.ts';
import {
  applyExtension,
  computeDeadlines,
  markDispatched,
  recomputeDeadlines,
  restartOnRedispatch,
  restartOnReopen,
  SlaRecordSchema,
  timeWindows,
} from '#core/sla/deadlines.ts';
import { resolvePolicy, type SlaPolicy } from '#core/sla/policy.ts';

const cal = defaultCalendar();
const standard = resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'standard' });
const emergency = resolvePolicy({ nature: '求助', urgency: 'emergency', policyId: 'emergency' });
const continuing: SlaPolicy = { ...standard, onRedispatch: 'continue' };

describe('Function: computeDeadlines', () => {
  it('should make a complaint received 2025-09-30 10:00 due at the end of 2025-10-14 (5 working days, 次日起)', () => {
    // Act
    const d = computeDeadlines(standard, '2025-09-30T10:00+08:00', cal);

    // Assess
    expect(d.resolveDue).toBe('2025-10-14T23:59:59.999+08:00');
    expect(d.provisional).toBe(false);
    expect(d.generation).toBe(1);
    expect(SlaRecordSchema.safeParse(d).success).toBe(true);
  });

  it('should count from the Asia/Shanghai day of receipt even when the instant is given in UTC', () => {
    // Act: 2025-09-30T17:00Z is 2025-10-01 01:00 in Shanghai: the count starts the day after 10-01.
    const late = computeDeadlines(standard, '2025-09-30T17:00:00Z', cal);
    const early = computeDeadlines(standard, '2025-09-30T15:59:59Z', cal);

    // Assess
    expect(late.receivedAt).toBe('2025-10-01T01:00:00.000+08:00');
    expect(late.resolveDue).toBe('2025-10-14T23:59:59.999+08:00');
    expect(early.resolveDue).toBe('2025-10-14T23:59:59.999+08:00');
    expect(computeDeadlines(standard, '2025-10-08T23:00+08:00', cal).resolveDue).toBe('2025-10-14T23:59:59.999+08:00');
    expect(computeDeadlines(standard, '2025-10-09T00:00+08:00', cal).resolveDue).toBe('2025-10-15T23:59:59.999+08:00');
  });

  it('should run hour limits around the clock, through nights and holidays', () => {
    // Act
    const night = computeDeadlines(emergency, '2025-09-30T23:30+08:00', cal);
    const holiday = computeDeadlines(emergency, '2025-10-01T12:00+08:00', cal);

    // Assess
    expect(night.dispatchDue).toBe('2025-10-01T00:30:00.000+08:00');
    expect(night.signDue).toBe('2025-10-01T00:00:00.000+08:00');
    expect(night.resolveDue).toBe('2025-10-01T23:30:00.000+08:00');
    expect(holiday.dispatchDue).toBe('2025-10-01T13:00:00.000+08:00');
    expect(holiday.resolveDue).toBe('2025-10-02T12:00:00.000+08:00');
  });

  it('should count the 24×7 dispatch limit of a normal case across midnight', () => {
    // Act
    const d = computeDeadlines(standard, '2025-12-31T22:15+08:00', cal);

    // Assess
    expect(d.dispatchDue).toBe('2026-01-01T02:15:00.000+08:00');
  });

  it('should count sign, contact and return from dispatch, and sign in office hours', () => {
    // Act: dispatched Tue 2025-09-30 17:00, sign 4 working hours → 1 h that day, 3 h on Thu 10-09.
    const d = computeDeadlines(standard, '2025-09-30T10:00+08:00', cal, { dispatchedAt: '2025-09-30T17:00+08:00' });

    // Assess
    expect(d.signDue).toBe('2025-10-09T12:00:00.000+08:00');
    expect(d.contactDue).toBe('2025-10-09T23:59:59.999+08:00');
    expect(d.returnDue).toBe('2025-10-10T23:59:59.999+08:00');
    expect(d.extensionLatest).toBe('2025-10-28T23:59:59.999+08:00');
    expect(timeWindows(d)).toEqual({
      returnBy: '2025-10-10T23:59:59.999+08:00',
      dueAt: '2025-10-14T23:59:59.999+08:00',
      extensionLatest: '2025-10-28T23:59:59.999+08:00',
    });
  });

  it('should mark deadlines provisional when they cross 2027, still counting Mon–Fri', () => {
    // Act
    const d = computeDeadlines(standard, '2026-12-28T10:00+08:00', cal);

    // Assess: 12-29, 12-30, 12-31 known; 2027-01-01 (Fri) and 01-04 (Mon) assumed.
    expect(d.resolveDue).toBe('2027-01-04T23:59:59.999+08:00');
    expect(d.provisional).toBe(true);
  });

  it('should mark a deadline provisional when only its chase or extension horizon crosses 2027', () => {
    // Act: resolve due 2026-12-24 is exact, but extensionLatest (+10 working days) reaches into 2027.
    const d = computeDeadlines(standard, '2026-12-17T10:00+08:00', cal);

    // Assess
    expect(d.resolveDue).toBe('2026-12-24T23:59:59.999+08:00');
    expect(d.provisional).toBe(true);
  });

  it('should build a sorted timeline: warning, breach and bounded chases per clock', () => {
    // Act
    const d = computeDeadlines(standard, '2025-09-30T10:00+08:00', cal, { dispatchedAt: '2025-09-30T10:05+08:00' });
    const resolve = d.timeline.filter((t) => t.kind === 'resolve');
    const dispatch = d.timeline.filter((t) => t.kind === 'dispatch');

    // Assess
    expect(resolve.map((t) => [t.stage, t.step, t.at])).toEqual([
      ['warn', 1, '2025-10-14T00:00:00.000+08:00'],
      ['breach', 2, '2025-10-14T23:59:59.999+08:00'],
      ['chase', 3, '2025-10-15T15:00:00.000+08:00'],
      ['chase', 4, '2025-10-16T10:00:00.000+08:00'],
      ['chase', 5, '2025-10-16T16:00:00.000+08:00'],
    ]);
    expect(dispatch.map((t) => t.stage)).toEqual(['warn', 'breach']);
    const times = d.timeline.map((t) => Date.parse(t.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('should skip a warning whose lead is longer than the limit', () => {
    // Prepare: 1 h limit with a 2 h lead.
    const p: SlaPolicy = { ...standard, dispatch: { limit: { hours: 1 }, warnBefore: { hours: 2 } } };

    // Act
    const d = computeDeadlines(p, '2025-09-29T10:00+08:00', cal);

    // Assess
    expect(d.timeline.filter((t) => t.kind === 'dispatch').map((t) => t.stage)).toEqual(['breach']);
  });

  it('should refuse a receipt time without a zone', () => {
    // Assess
    expect(() => computeDeadlines(standard, '2025-09-30T10:00', cal)).toThrow(RangeError);
  });
});

describe('Function: applyExtension', () => {
  const base = computeDeadlines(standard, '2025-09-30T10:00+08:00', cal, { dispatchedAt: '2025-09-30T10:05+08:00' });

  it('should move the resolve deadline to the end of the granted date and bump the generation', () => {
    // Act
    const r = applyExtension(base, '2025-10-21', {
      policy: standard,
      calendar: cal,
      requestedAt: '2025-10-13T10:00+08:00',
    });

    // Assess
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record.resolveDue).toBe('2025-10-21T23:59:59.999+08:00');
    expect(r.record.baseResolveDue).toBe('2025-10-14T23:59:59.999+08:00');
    expect(r.record.extendedTo).toBe('2025-10-21T23:59:59.999+08:00');
    expect(r.record.generation).toBe(2);
    expect(r.record.timeline.find((t) => t.kind === 'resolve' && t.stage === 'breach')?.at).toBe(
      '2025-10-21T23:59:59.999+08:00',
    );
    expect(r.record.signDue).toBe(base.signDue);
  });

  it('should allow up to 10 working days past the original due, in total over several extensions', () => {
    // Act
    const first = applyExtension(base, '2025-10-21', { policy: standard, calendar: cal });
    if (!first.ok) throw first.error;
    const second = applyExtension(first.record, '2025-10-28', { policy: standard, calendar: cal });
    const third = applyExtension(first.record, '2025-10-29', { policy: standard, calendar: cal });

    // Assess
    expect(second.ok).toBe(true);
    expect(third.ok).toBe(false);
    if (!third.ok) expect(third.error.code).toBe('EXTENSION_TOO_LONG');
  });

  it.each([
    ['not later than the current due', '2025-10-14', undefined, 'EXTENSION_NOT_LATER'],
    ['requested after expiry', '2025-10-20', '2025-10-15T09:00+08:00', 'EXTENSION_TOO_LATE'],
    ['not a date', '20/10/2025', undefined, 'INVALID_DATE'],
  ])('should refuse an extension %s', (_label, newDue, requestedAt, code) => {
    // Act
    const r = applyExtension(base, newDue, { policy: standard, calendar: cal, requestedAt });

    // Assess
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it('should accept an instant as the new due (the lifecycle passes newDueAt)', () => {
    // Act
    const r = applyExtension(base, '2025-10-20T18:00:00+08:00', { policy: standard, calendar: cal });

    // Assess
    expect(r.ok && r.record.resolveDue).toBe('2025-10-20T18:00:00.000+08:00');
  });
});

describe('Function: restartOnRedispatch / markDispatched / restartOnReopen', () => {
  const received = computeDeadlines(standard, '2025-09-29T10:00+08:00', cal);

  it('should start the department clocks at the first dispatch after manual triage', () => {
    // Act
    const d = markDispatched(received, standard, '2025-09-29T16:00+08:00', cal);

    // Assess
    expect(d.dispatchedAt).toBe('2025-09-29T16:00:00.000+08:00');
    expect(d.signDue).toBe('2025-09-30T11:00:00.000+08:00');
    expect(d.resolveDue).toBe(received.resolveDue);
    expect(d.generation).toBe(received.generation + 1);
  });

  it('should restart the resolve clock on re-dispatch when the policy says restart, dropping extensions', () => {
    // Prepare
    const ext = applyExtension(received, '2025-10-17', { policy: standard, calendar: cal });
    if (!ext.ok) throw ext.error;
    const fired = { ...ext.record, progress: { dispatch: 2, sign: 2, contact: 0, resolve: 1 } };

    // Act: re-dispatched Thu 2025-10-09 → 5 working days from Fri 10-10: 10, 11 (make-up Sat), 13, 14, 15.
    const d = restartOnRedispatch(fired, standard, '2025-10-09T15:00+08:00', cal);

    // Assess
    expect(d.resolveDue).toBe('2025-10-15T23:59:59.999+08:00');
    expect(d.extendedTo).toBeNull();
    expect(d.resolveFrom).toBe('2025-10-09T15:00:00.000+08:00');
    expect(d.progress).toEqual({ dispatch: 2, sign: 0, contact: 0, resolve: 0 });
    expect(d.generation).toBe(fired.generation + 1);
    expect(d.receivedAt).toBe(received.receivedAt);
  });

  it('should keep the resolve due on re-dispatch when the policy says continue', () => {
    // Act
    const d = restartOnRedispatch(received, continuing, '2025-10-09T15:00+08:00', cal);

    // Assess
    expect(d.resolveDue).toBe(received.resolveDue);
    expect(d.signDue).toBe('2025-10-10T10:00:00.000+08:00');
  });

  it('should give a reopened case (重办) a full new set of limits', () => {
    // Act
    const d = restartOnReopen(received, standard, '2025-10-20T10:00+08:00', cal);

    // Assess
    expect(d.resolveDue).toBe('2025-10-27T23:59:59.999+08:00');
    expect(d.progress.resolve).toBe(0);
  });
});

describe('Function: recomputeDeadlines', () => {
  it('should turn a provisional deadline exact once the calendar is extended, with a new generation', () => {
    // Prepare: a made-up 2027 arrangement with 2027-01-01 and 01-04 as holidays, as a supplement: the five working
    // days after 2026-12-28 become 12-29, 12-30, 12-31, 01-05, 01-06 (provisionally they ended on 01-04).
    const extended = WorkingCalendar.create(officialFile, {
      version: 'sup-1',
      supplement: {
        source: 'test notice',
        until: '2027-12-31',
        holidays: { '2027-01-01': '元旦', '2027-01-04': '元旦' },
        workdays: {},
      },
    });
    const before = computeDeadlines(standard, '2026-12-28T10:00+08:00', cal);

    // Act
    const r = recomputeDeadlines(before, standard, extended);

    // Assess
    expect(before.provisional).toBe(true);
    expect(r.changed).toBe(true);
    expect(r.record.resolveDue).toBe('2027-01-06T23:59:59.999+08:00');
    expect(r.record.generation).toBe(before.generation + 1);
    expect(r.record.calendarVersion).toBe(extended.version);
  });

  it('should change nothing when recomputed on the same calendar', () => {
    // Prepare
    const before = computeDeadlines(standard, '2025-09-30T10:00+08:00', cal);

    // Act
    const r = recomputeDeadlines(before, standard, cal);

    // Assess
    expect(r.changed).toBe(false);
    expect(r.record).toBe(before);
  });
});
