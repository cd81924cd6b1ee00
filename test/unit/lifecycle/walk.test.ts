/**
 * The walk of issue 7, in the pure machine: dispatch → return → re-dispatch → sign → extension → resolve →
 * follow-up dissatisfied → reopen (重办) → resolve → satisfied → archive.
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '#core/lifecycle/actions.ts';
import { publicHistory } from '#core/lifecycle/history.ts';
import { applyAction, receiveCase } from '#core/lifecycle/machine.ts';
import type { Actor, AuditRecord, CaseSnapshot, LifecycleEvent } from '#core/lifecycle/types.ts';

const system: Actor = { role: 'system', id: 'triage' };
const supervisor: Actor = { role: 'supervisor', id: 'sup-wang' };
const zhujian: Actor = { role: 'department', id: 'zj-zhang', department: 'zhujian' };
const shuiwu: Actor = { role: 'department', id: 'sw-chen', department: 'shuiwu' };
const agent: Actor = { role: 'agent', id: 'agent-liu' };
const citizen: Actor = { role: 'citizen', id: 'trk-20251009-0042' };

const NAMES: Record<string, string> = { zhujian: '区住房和建设局', shuiwu: '区水务局' };

/** One step of the walk: the action, who, when, and what must follow. */
const STEPS: { action: Action; actor: Actor; at: string; to: string; event: string; department: string }[] = [
  {
    action: { type: 'dispatch', department: 'zhujian', category: 'ZJ-03' },
    actor: system,
    at: '2025-10-09T09:01:00+08:00',
    to: 'dispatched',
    event: 'Case.Dispatched',
    department: 'zhujian',
  },
  {
    action: { type: 'requestReturn', reason: '小区供水管道属水务局职责' },
    actor: zhujian,
    at: '2025-10-09T10:00:00+08:00',
    to: 'returnRequested',
    event: 'Case.ReturnRequested',
    department: 'zhujian',
  },
  {
    action: { type: 'approveReturn', department: 'shuiwu', category: 'SW-02' },
    actor: supervisor,
    at: '2025-10-09T11:00:00+08:00',
    to: 'dispatched',
    event: 'Case.Dispatched',
    department: 'shuiwu',
  },
  {
    action: { type: 'sign' },
    actor: shuiwu,
    at: '2025-10-09T14:00:00+08:00',
    to: 'signed',
    event: 'Case.Signed',
    department: 'shuiwu',
  },
  {
    action: { type: 'contact', text: '陈工电话联系市民，约明日查看' },
    actor: shuiwu,
    at: '2025-10-09T15:00:00+08:00',
    to: 'signed',
    event: 'Case.Contacted',
    department: 'shuiwu',
  },
  {
    action: { type: 'requestExtension', reason: '需更换主管道，待材料', newDueAt: '2025-10-24T23:59:59+08:00' },
    actor: shuiwu,
    at: '2025-10-13T09:00:00+08:00',
    to: 'signed',
    event: 'Case.ExtensionRequested',
    department: 'shuiwu',
  },
  {
    action: { type: 'approveExtension', reason: '同意' },
    actor: supervisor,
    at: '2025-10-13T10:00:00+08:00',
    to: 'signed',
    event: 'Case.ExtensionApproved',
    department: 'shuiwu',
  },
  {
    action: { type: 'resolve', text: '已更换主管道，恢复供水。' },
    actor: shuiwu,
    at: '2025-10-20T16:00:00+08:00',
    to: 'resolved',
    event: 'Case.Resolved',
    department: 'shuiwu',
  },
  {
    action: { type: 'approveClosure' },
    actor: supervisor,
    at: '2025-10-21T09:00:00+08:00',
    to: 'followUp',
    event: 'Case.ClosureApproved',
    department: 'shuiwu',
  },
  {
    action: { type: 'recordFollowUp', satisfaction: '不满意', resolved: false, text: '水压仍然很低' },
    actor: agent,
    at: '2025-10-21T15:00:00+08:00',
    to: 'dispatched',
    event: 'Case.Dispatched',
    department: 'shuiwu',
  },
  {
    action: { type: 'sign' },
    actor: shuiwu,
    at: '2025-10-22T09:00:00+08:00',
    to: 'signed',
    event: 'Case.Signed',
    department: 'shuiwu',
  },
  {
    action: { type: 'resolve', text: '已加装增压泵，水压恢复正常。' },
    actor: shuiwu,
    at: '2025-10-24T11:00:00+08:00',
    to: 'resolved',
    event: 'Case.Resolved',
    department: 'shuiwu',
  },
  {
    action: { type: 'approveClosure' },
    actor: supervisor,
    at: '2025-10-24T14:00:00+08:00',
    to: 'followUp',
    event: 'Case.ClosureApproved',
    department: 'shuiwu',
  },
  {
    action: { type: 'recordFollowUp', satisfaction: '满意', resolved: true },
    actor: citizen,
    at: '2025-10-25T10:00:00+08:00',
    to: 'closed',
    event: 'Case.Closed',
    department: 'shuiwu',
  },
  {
    action: { type: 'archive' },
    actor: supervisor,
    at: '2025-11-01T09:00:00+08:00',
    to: 'archived',
    event: 'Case.Archived',
    department: 'shuiwu',
  },
];

function walk(): { final: CaseSnapshot; audit: AuditRecord[]; events: LifecycleEvent[]; seen: CaseSnapshot[] } {
  const opened = receiveCase(
    {
      caseId: 'C20251009-0042',
      receivedAt: '2025-10-09T09:00:00+08:00',
      nature: '求助',
      citizenRef: citizen.id,
      deadlines: {},
    },
    { role: 'system', id: 'intake' },
  );
  if (!opened.ok) throw new Error(opened.error.code);
  let snapshot = opened.next;
  const audit = [opened.audit];
  const events = [opened.event];
  const seen = [snapshot];
  for (const s of STEPS) {
    // The SLA engine would set the windows after each dispatch; here it does once, after the re-dispatch.
    if (s.action.type === 'sign' && snapshot.windows.dueAt === null) {
      snapshot = {
        ...snapshot,
        windows: {
          returnBy: '2025-10-11T23:59:59+08:00',
          dueAt: '2025-10-16T23:59:59+08:00',
          extensionLatest: '2025-10-30T23:59:59+08:00',
        },
      };
    }
    const r = applyAction(snapshot, s.action, s.actor, s.at);
    if (!r.ok) throw new Error(`${s.action.type}: ${r.error.code} ${r.error.message}`);
    snapshot = r.next;
    audit.push(r.audit);
    events.push(r.event);
    seen.push(snapshot);
  }
  return { final: snapshot, audit, events, seen };
}

describe('Function: applyAction (the full walk)', () => {
  it('should walk the case through every step with the expected state, department and event', () => {
    // Act
    const { seen, events } = walk();

    // Assess
    expect(seen.slice(1).map((s) => [s.state, s.department])).toEqual(STEPS.map((s) => [s.to, s.department]));
    expect(events.map((e) => e.detailType)).toEqual(['Case.Received', ...STEPS.map((s) => s.event)]);
    expect(seen.map((s) => s.version)).toEqual(seen.map((_, i) => i + 1));
  });

  it('should end archived with lifetime counts and the timestamps of the last cycle', () => {
    // Act
    const { final } = walk();

    // Assess
    expect(final).toMatchObject({
      state: 'archived',
      version: STEPS.length + 1,
      department: 'shuiwu',
      category: 'SW-02',
      pending: null,
      satisfaction: '满意',
      resolvedFlag: true,
      counts: { reopenCount: 1, returnCount: 1, extensionCount: 1, redispatchCount: 0 },
    });
    expect(final.timestamps).toEqual({
      receivedAt: '2025-10-09T09:00:00+08:00',
      dispatchedAt: '2025-10-21T15:00:00+08:00',
      signedAt: '2025-10-22T09:00:00+08:00',
      firstContactAt: null,
      resolvedAt: '2025-10-24T11:00:00+08:00',
      closedAt: '2025-10-25T10:00:00+08:00',
      archivedAt: '2025-11-01T09:00:00+08:00',
    });
  });

  it('should count the approved extension and move the due time in its cycle', () => {
    // Act
    const { seen } = walk();
    const afterApproval = seen[STEPS.findIndex((s) => s.action.type === 'approveExtension') + 1];

    // Assess
    expect(afterApproval?.windows.dueAt).toBe('2025-10-24T23:59:59+08:00');
    expect(afterApproval?.counts.extensionCount).toBe(1);
  });

  it('should leave a complete audit trail: every step, who, from, to', () => {
    // Act
    const { audit } = walk();

    // Assess
    expect(audit.map((a) => `${a.action}:${a.from ?? '-'}>${a.to}:${a.actor.role}`)).toEqual([
      'receive:->received:system',
      'dispatch:received>dispatched:system',
      'requestReturn:dispatched>returnRequested:department',
      'approveReturn:returnRequested>dispatched:supervisor',
      'sign:dispatched>signed:department',
      'contact:signed>signed:department',
      'requestExtension:signed>signed:department',
      'approveExtension:signed>signed:supervisor',
      'resolve:signed>resolved:department',
      'approveClosure:resolved>followUp:supervisor',
      'recordFollowUp:followUp>dispatched:agent',
      'sign:dispatched>signed:department',
      'resolve:signed>resolved:department',
      'approveClosure:resolved>followUp:supervisor',
      'recordFollowUp:followUp>closed:citizen',
      'archive:closed>archived:supervisor',
    ]);
    expect(audit[2]).toMatchObject({ reason: '小区供水管道属水务局职责', visibility: 'internal' });
    expect(audit[3]?.details).toMatchObject({
      previousDepartment: 'zhujian',
      returnReason: '小区供水管道属水务局职责',
    });
  });

  it('should route the re-dispatch and the 重办 to the handling department on the bus', () => {
    // Act
    const { events } = walk();
    const dispatched = events.filter((e) => e.detailType === 'Case.Dispatched');

    // Assess
    expect(dispatched.map((e) => [e.detail.transition.action, e.detail.department])).toEqual([
      ['dispatch', 'zhujian'],
      ['approveReturn', 'shuiwu'],
      ['recordFollowUp', 'shuiwu'],
    ]);
    expect(dispatched[2]?.detail.transition.details).toMatchObject({
      reopened: true,
      satisfaction: '不满意',
      note: '水压仍然很低',
    });
  });

  it('should show the citizen only public steps, with Chinese labels and no staff ids or internal reasons', () => {
    // Act
    const { audit } = walk();
    const history = publicHistory(audit, (id) => NAMES[id]);
    const json = JSON.stringify(history);

    // Assess
    expect(history.map((h) => [h.label, h.status])).toEqual([
      ['受理', '已受理'],
      ['派单', '已派单'],
      ['改派', '已派单'],
      ['签收', '处理中'],
      ['先行联系', '处理中'],
      ['办理时限延长', '处理中'],
      ['办结反馈', '处理中'],
      ['回访（未解决，重办）', '已派单'],
      ['签收', '处理中'],
      ['办结反馈', '处理中'],
      ['回访（办结）', '已办结'],
      ['归档', '已办结'],
    ]);
    expect(history[2]?.department).toEqual({ id: 'shuiwu', name: '区水务局' });
    expect(history[5]?.dueAt).toBe('2025-10-24T23:59:59+08:00');
    expect(history[6]?.text).toBe('已更换主管道，恢复供水。');
    for (const secret of [
      'sup-wang',
      'zj-zhang',
      'sw-chen',
      'agent-liu',
      '陈工',
      '水务局职责',
      '待材料',
      '水压仍然很低',
    ]) {
      expect(json).not.toContain(secret);
    }
  });
});
