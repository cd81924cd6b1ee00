/** Stored cases for the SLA wiring tests: a standard complaint received Monday 2025-11-03 09:00, dispatched 09:05. */
import { defaultCalendar } from '#core/calendar/default.ts';
import type { Case } from '#core/case.ts';
import { applySnapshot, toSnapshot } from '#core/cases/mapping.ts';
import type { Action } from '#core/lifecycle/actions.ts';
import { applyAction } from '#core/lifecycle/machine.ts';
import type { Actor } from '#core/lifecycle/types.ts';
import { computeDeadlines, type SlaRecord } from '#core/sla/deadlines.ts';
import { slaAfterTransition } from '#core/sla/lifecycle.ts';
import { resolvePolicy } from '#core/sla/policy.ts';

export const RECEIVED = '2025-11-03T09:00:00.000+08:00';
export const DISPATCHED = '2025-11-03T09:05:00.000+08:00';

export const standard = () => resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'standard' });

export function standardRecord(receivedAt = RECEIVED, dispatchedAt: string | undefined = DISPATCHED): SlaRecord {
  return computeDeadlines(standard(), receivedAt, defaultCalendar(), { dispatchedAt });
}

/** A case as triage writes it (dispatched automatically to 区住房和建设局, category 物业管理 → standard policy). */
export function makeCase(over: Partial<Case> = {}): Case {
  const receivedAt = (over.receivedAt as string | undefined) ?? RECEIVED;
  const deadlines =
    'deadlines' in over
      ? over.deadlines
      : (standardRecord(receivedAt, DISPATCHED) as unknown as Record<string, unknown>);
  return {
    caseId: '20251103000001',
    trackingNo: '20251103000001',
    state: 'dispatched',
    version: 1,
    department: 'zhujian',
    category: 'ZF-01',
    nature: '投诉',
    urgency: 'normal',
    channel: 'web',
    title: '小区电梯故障',
    text: '坪山街道六和社区某小区电梯坏了三天',
    citizen: { phone: '+8613800138000' },
    receivedAt,
    updatedAt: DISPATCHED,
    dispatchedAt: DISPATCHED,
    classification: { category: 'ZF-01', confidence: 0.9, decision: 'auto', reason: 'test' },
    reportCount: 1,
    reporters: [],
    deadlines,
    announcedVersion: 1,
    history: [],
    ...over,
  };
}

export const recordOf = (c: Case): SlaRecord => c.deadlines as unknown as SlaRecord;

export const supervisor: Actor = { role: 'supervisor', id: 'sup-1' };
export const dept = (department: string): Actor => ({ role: 'department', id: 'd-1', department });

/**
 * One accepted step through the real machine and the SLA engine, as the lifecycle service does it
 * (`applyAction` → `applySnapshot` → `slaAfterTransition`); throws when refused.
 */
export function step(c: Case, action: Action, actor: Actor, now: string): Case {
  const r = applyAction(toSnapshot(c), action, actor, now);
  if (!r.ok) throw new Error(`${action.type} refused: ${r.error.code} ${r.error.message}`);
  const after = applySnapshot(c, r.next, r.audit);
  const sla = slaAfterTransition(c, after, r.audit.action, r.audit.at);
  if (!sla.ok) throw sla.error;
  return {
    ...after,
    ...(sla.deadlines ? { deadlines: sla.deadlines as unknown as Record<string, unknown> } : {}),
    windows: sla.windows,
  };
}
