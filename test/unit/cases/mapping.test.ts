import { describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import { applySnapshot, auditTrail, citizenRefOf, toSnapshot, windowsOf } from '#core/cases/mapping.ts';
import { applyAction } from '#core/lifecycle/machine.ts';
import { CaseSnapshotSchema } from '#core/lifecycle/types.ts';
import { citizenKey } from '#core/privacy.ts';
import { CHENGGUAN, categories, PHONE, SUPERVISOR, triagedCase } from './fakes.ts';

const NOW = '2025-11-28T11:00:00.000+08:00';

function step(c: Case, action: Parameters<typeof applyAction>[1], actor: Parameters<typeof applyAction>[2]): Case {
  const r = applyAction(toSnapshot(c), action, actor, NOW);
  if (!r.ok) throw r.error;
  return applySnapshot(c, r.next, r.audit, { categoryName: (code) => categories.get(code)?.name });
}

describe('Function: toSnapshot', () => {
  it('should give the machine a valid snapshot of a case as triage opened it', () => {
    // Prepare
    const c = triagedCase();
    // Act
    const s = toSnapshot(c);
    // Assess
    expect(CaseSnapshotSchema.safeParse(s).success).toBe(true);
    expect(s).toMatchObject({
      state: 'dispatched',
      version: 1,
      department: 'chengguan',
      category: 'SZ-01',
      citizenRef: citizenKey({ phone: PHONE }),
      pending: null,
      windows: { returnBy: null, dueAt: null, extensionLatest: null },
      counts: { reopenCount: 0, returnCount: 0, extensionCount: 0, redispatchCount: 0 },
      timestamps: { receivedAt: c.receivedAt, dispatchedAt: c.dispatchedAt, signedAt: null },
    });
  });

  it('should have no citizen reference for an anonymous report', () => {
    expect(citizenRefOf(triagedCase('20251128000001', '路灯', { anonymous: true }))).toBeNull();
    expect(toSnapshot(triagedCase('20251128000001', '路灯', { anonymous: true })).citizenRef).toBeNull();
  });

  it('should prefer stored windows, then the SLA record, then nothing', () => {
    // Prepare
    const sla = {
      generation: 1,
      timeline: [],
      progress: {},
      resolveDue: '2025-12-05T23:59:59.999+08:00',
      returnDue: '2025-12-01T23:59:59.999+08:00',
      extensionLatest: '2025-12-19T23:59:59.999+08:00',
    };
    const stored = { returnBy: null, dueAt: '2025-12-09T23:59:59.999+08:00', extensionLatest: null };
    // Act + Assess
    expect(windowsOf({ deadlines: sla })).toEqual({
      returnBy: sla.returnDue,
      dueAt: sla.resolveDue,
      extensionLatest: sla.extensionLatest,
    });
    expect(windowsOf({ deadlines: sla, windows: stored })).toEqual(stored);
    expect(windowsOf({ deadlines: { something: 'else' } })).toEqual({
      returnBy: null,
      dueAt: null,
      extensionLatest: null,
    });
  });
});

describe('Function: applySnapshot', () => {
  it('should merge the machine’s next state and append the audit record, without touching the input', () => {
    // Prepare
    const c = triagedCase();
    const frozen = structuredClone(c);
    // Act
    const signed = step(c, { type: 'sign' }, CHENGGUAN);
    // Assess
    expect(c).toEqual(frozen);
    expect(signed).toMatchObject({ state: 'signed', version: 2, updatedAt: NOW, pending: null });
    expect(signed.history).toHaveLength(c.history.length + 1);
    expect(signed.timestamps?.signedAt).toBe(NOW);
    // Round trip: the snapshot of the merged case is the machine's next.
    const r = applyAction(toSnapshot(c), { type: 'sign' }, CHENGGUAN, NOW);
    expect(r.ok && toSnapshot(signed)).toEqual(r.ok && r.next);
  });

  it('should rename the classification when a supervisor changes the category', () => {
    // Prepare
    const c = triagedCase();
    // Act
    const moved = step(
      c,
      { type: 'redispatch', department: 'zhujian', category: 'SZ-07', reason: '属建设类' },
      SUPERVISOR,
    );
    // Assess
    expect(moved.category).toBe('SZ-07');
    expect(moved.classification).toMatchObject({ category: 'SZ-07', categoryName: '城乡建设其他', decision: 'manual' });
    expect(moved.dispatchedAt).toBe(NOW);
  });
});

describe('Function: auditTrail', () => {
  it('should give triage’s opening records the department they were written under, across re-dispatches', () => {
    // Prepare
    let c = triagedCase();
    c = step(c, { type: 'requestReturn', reason: '非本单位职责' }, CHENGGUAN);
    c = step(c, { type: 'approveReturn', department: 'gongdian', reason: '改派' }, SUPERVISOR);
    // Act
    const trail = auditTrail(c);
    // Assess
    expect(trail.map((r) => [r.action, r.department, r.version])).toEqual([
      ['receive', null, 1],
      ['dispatch', 'chengguan', 2],
      ['requestReturn', 'chengguan', 3],
      ['approveReturn', 'gongdian', 4],
    ]);
  });

  it('should turn triage’s 转人工分拨 into the machine’s internal queueForTriage', () => {
    // Prepare
    const c = triagedCase('20251128000001', '说不清的问题');
    // Act
    const trail = auditTrail(c);
    // Assess
    expect(trail[1]).toMatchObject({
      action: 'queueForTriage',
      to: 'triage',
      department: null,
      visibility: 'internal',
    });
  });
});
