import { describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import type { SlaRecord } from '#core/sla/deadlines.ts';
import { slaAfterTransition, slaHook } from '#core/sla/lifecycle.ts';
import { dept, makeCase, recordOf, step, supervisor } from './case-fixtures.ts';

describe('Function: slaAfterTransition', () => {
  it('should leave the record alone on 签收 and give the machine its windows', () => {
    // Prepare
    const c = makeCase();
    // Act
    const signed = step(c, { type: 'sign' }, dept('zhujian'), '2025-11-03T10:00:00.000+08:00');
    // Assess
    expect(signed.deadlines).toBe(c.deadlines);
    expect(signed.windows).toEqual({
      returnBy: '2025-11-05T23:59:59.999+08:00',
      dueAt: '2025-11-10T23:59:59.999+08:00',
      extensionLatest: '2025-11-24T23:59:59.999+08:00',
    });
  });

  it('should restart the department clocks and the resolve clock on 改派 after a return', () => {
    // Prepare
    const c = step(
      makeCase(),
      { type: 'requestReturn', reason: '不属于本单位职责' },
      dept('zhujian'),
      '2025-11-04T10:00:00.000+08:00',
    );
    // Act
    const moved = step(
      c,
      { type: 'approveReturn', department: 'chengguan', reason: '改派城管' },
      supervisor,
      '2025-11-04T11:00:00.000+08:00',
    );
    // Assess
    const r = recordOf(moved);
    expect(moved.state).toBe('dispatched');
    expect(r.generation).toBe(recordOf(c).generation + 1);
    expect(r.dispatchedAt).toBe('2025-11-04T11:00:00.000+08:00');
    expect(r.resolveFrom).toBe('2025-11-04T11:00:00.000+08:00');
    // 4 working hours from Tue 11:00: 11:00–12:00 and 14:00–17:00.
    expect(r.signDue).toBe('2025-11-04T17:00:00.000+08:00');
    // 5 working days counted from the day after the re-dispatch: Wed 5 … Tue 11.
    expect(r.resolveDue).toBe('2025-11-11T23:59:59.999+08:00');
    expect(r.progress).toEqual({ dispatch: 0, sign: 0, contact: 0, resolve: 0 });
    expect(moved.windows?.dueAt).toBe(r.resolveDue);
  });

  it('should not restart anything when a return is rejected', () => {
    // Prepare
    const c = step(
      makeCase(),
      { type: 'requestReturn', reason: '不属于本单位职责' },
      dept('zhujian'),
      '2025-11-04T10:00:00.000+08:00',
    );
    // Act
    const back = step(c, { type: 'rejectReturn', reason: '属于本单位' }, supervisor, '2025-11-04T11:00:00.000+08:00');
    // Assess
    expect(back.state).toBe('dispatched');
    expect(back.deadlines).toBe(c.deadlines);
  });

  it('should move the resolve deadline to the approved extension and bump the generation', () => {
    // Prepare
    let c = step(makeCase(), { type: 'sign' }, dept('zhujian'), '2025-11-03T10:00:00.000+08:00');
    c = step(
      c,
      { type: 'requestExtension', reason: '需协调物业', newDueAt: '2025-11-14T23:59:59.999+08:00' },
      dept('zhujian'),
      '2025-11-07T10:00:00.000+08:00',
    );
    // Act
    const extended = step(c, { type: 'approveExtension' }, supervisor, '2025-11-07T11:00:00.000+08:00');
    // Assess
    const r = recordOf(extended);
    expect(r.generation).toBe(2);
    expect(r.resolveDue).toBe('2025-11-14T23:59:59.999+08:00');
    expect(r.extendedTo).toBe('2025-11-14T23:59:59.999+08:00');
    expect(r.baseResolveDue).toBe('2025-11-10T23:59:59.999+08:00');
    expect(extended.windows?.dueAt).toBe('2025-11-14T23:59:59.999+08:00');
  });

  it('should refuse an approved extension past the policy maximum with an error value', () => {
    // Prepare
    const before: Case = {
      ...makeCase({ state: 'signed' }),
      pending: {
        kind: 'extension',
        reason: 'x',
        requestedAt: '2025-11-07T10:00:00.000+08:00',
        requestedBy: { role: 'department', id: 'd-1' },
        newDueAt: '2025-12-31T23:59:59.999+08:00',
      },
    };
    const after: Case = {
      ...before,
      pending: null,
      windows: { returnBy: null, dueAt: '2025-12-31T23:59:59.999+08:00', extensionLatest: null },
    };
    // Act
    const r = slaAfterTransition(before, after, 'approveExtension', '2025-11-07T11:00:00.000+08:00');
    // Assess
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('EXTENSION_TOO_LONG');
    expect(() => slaHook()(before, after, { action: 'approveExtension', at: '2025-11-07T11:00:00.000+08:00' })).toThrow(
      /at most/,
    );
  });

  it('should give a reopened case a full new set of limits (重办 after a dissatisfied follow-up)', () => {
    // Prepare
    let c = step(makeCase(), { type: 'sign' }, dept('zhujian'), '2025-11-03T10:00:00.000+08:00');
    c = step(c, { type: 'resolve', text: '已维修' }, dept('zhujian'), '2025-11-05T10:00:00.000+08:00');
    c = step(c, { type: 'approveClosure' }, supervisor, '2025-11-05T11:00:00.000+08:00');
    // Act
    const reopened = step(
      c,
      { type: 'recordFollowUp', satisfaction: '不满意', resolved: false },
      supervisor,
      '2025-11-06T09:00:00.000+08:00',
    );
    // Assess
    const r = recordOf(reopened);
    expect(reopened.state).toBe('dispatched');
    expect(r.generation).toBe(2);
    expect(r.resolveFrom).toBe('2025-11-06T09:00:00.000+08:00');
    expect(r.resolveDue).toBe('2025-11-13T23:59:59.999+08:00');
    // 4 working hours from Thu 09:00: 09:00–12:00 and 14:00–15:00.
    expect(r.signDue).toBe('2025-11-06T15:00:00.000+08:00');
  });

  it('should use the policy of the category picked by manual triage when it dispatches', () => {
    // Prepare: triage could not classify; the case waits in 人工分拨 with a record counted from receipt.
    const waiting = slaAfterTransition(
      { ...makeCase(), state: 'received', deadlines: undefined },
      { ...makeCase(), state: 'triage', department: 'centre', category: undefined, deadlines: undefined },
      'queueForTriage',
      '2025-11-03T09:01:00.000+08:00',
    );
    if (!waiting.ok || !waiting.deadlines) throw new Error('no record');
    expect(waiting.deadlines.dispatchedAt).toBeNull();
    expect(waiting.deadlines.policyId).toBe('standard/投诉/normal');
    const c = makeCase({
      state: 'triage',
      department: 'centre',
      category: undefined,
      dispatchedAt: undefined,
      deadlines: waiting.deadlines as unknown as Record<string, unknown>,
    });
    // Act: a supervisor picks 燃气泄漏 (emergency policy).
    const dispatched = step(
      c,
      { type: 'assignTriage', department: 'zhujian', category: 'GY-06' },
      supervisor,
      '2025-11-03T09:30:00.000+08:00',
    );
    // Assess
    const r = recordOf(dispatched);
    expect(r.policyId).toBe('emergency/投诉/normal');
    expect(r.generation).toBe(2);
    expect(r.dispatchedAt).toBe('2025-11-03T09:30:00.000+08:00');
    expect(r.signDue).toBe('2025-11-03T10:00:00.000+08:00');
    expect(r.resolveDue).toBe('2025-11-04T09:00:00.000+08:00');
  });

  it('should give a case written before the SLA engine a record at its next step', () => {
    // Prepare
    const legacy = makeCase({ deadlines: undefined });
    // Act
    const signed = step(legacy, { type: 'sign' }, dept('zhujian'), '2025-11-03T10:00:00.000+08:00');
    // Assess
    const r = signed.deadlines as unknown as SlaRecord;
    expect(r.dispatchedAt).toBe('2025-11-03T09:05:00.000+08:00');
    expect(r.resolveDue).toBe('2025-11-10T23:59:59.999+08:00');
  });
});
