import { describe, expect, it } from 'vitest';
import type { Action } from '#core/lifecycle/actions.ts';
import { LIFECYCLE_ERRORS } from '#core/lifecycle/errors.ts';
import { type ApplyResult, allowedActions, applyAction, receiveCase } from '#core/lifecycle/machine.ts';
import { ACTION_ROLES, ACTION_TYPES } from '#core/lifecycle/states.ts';
import { type Actor, type CaseSnapshot, CaseSnapshotSchema } from '#core/lifecycle/types.ts';
import { CITIZEN, DEPT, deepFreeze, fixture, NOW, OTHER_DEPT, ROWS, type Row } from './fixtures.ts';

const supervisor: Actor = { role: 'supervisor', id: 'sup-li' };
const dept: Actor = { role: 'department', id: 'dept-user-1', department: DEPT };
const otherDept: Actor = { role: 'department', id: 'dept-user-9', department: OTHER_DEPT };
const agent: Actor = { role: 'agent', id: 'agent-007' };
const citizen: Actor = { role: 'citizen', id: CITIZEN };

const ok = (r: ApplyResult): Extract<ApplyResult, { ok: true }> => {
  if (!r.ok) throw new Error(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r;
};
const code = (r: ApplyResult): string | undefined => (r.ok ? undefined : r.error.code);

describe('Function: applyAction (ownership)', () => {
  const departmentActions = ACTION_TYPES.filter((t) => ACTION_ROLES[t].includes('department'));
  const assignedRows = ROWS.filter((r) => fixture(r).department === DEPT);
  const grid = assignedRows.flatMap((row) => departmentActions.map((type) => ({ row, type })));

  it.each(grid)('should refuse department B $type on department A case in $row with NOT_YOUR_CASE', ({ row, type }) => {
    // Act
    const result = applyAction(fixture(row), { type } as Action, otherDept, NOW);

    // Assess
    expect(code(result)).toBe('NOT_YOUR_CASE');
    if (!result.ok) expect(result.error.status).toBe(404);
  });

  it('should refuse a department actor that names no department', () => {
    // Act
    const result = applyAction(fixture('dispatched'), { type: 'sign' }, { role: 'department', id: 'x' }, NOW);

    // Assess
    expect(code(result)).toBe('NOT_YOUR_CASE');
  });

  it('should refuse another citizen, and any citizen on a case without a citizen reference', () => {
    // Prepare
    const anonymous: CaseSnapshot = { ...fixture('closed'), citizenRef: null };

    // Act
    const stranger = applyAction(
      fixture('closed'),
      { type: 'reopen', reason: '没修好' },
      { role: 'citizen', id: 'x' },
      NOW,
    );
    const noRef = applyAction(anonymous, { type: 'reopen', reason: '没修好' }, citizen, NOW);

    // Assess
    expect(code(stranger)).toBe('NOT_YOUR_CASE');
    expect(code(noRef)).toBe('NOT_YOUR_CASE');
  });

  it('should answer NOT_YOUR_CASE before the state is checked, so a guessed id reveals nothing', () => {
    // Act
    const codes = ROWS.filter((r) => fixture(r).department !== OTHER_DEPT).map((row) =>
      code(applyAction(fixture(row), { type: 'resolve', text: 'x' }, otherDept, NOW)),
    );

    // Assess
    expect(new Set(codes)).toEqual(new Set(['NOT_YOUR_CASE']));
  });

  it('should answer FORBIDDEN_ROLE before ownership and state', () => {
    // Act
    const result = applyAction(fixture('received'), { type: 'approveReturn', department: OTHER_DEPT }, otherDept, NOW);

    // Assess
    expect(code(result)).toBe('FORBIDDEN_ROLE');
    if (!result.ok) expect(result.error.status).toBe(403);
  });

  it('should stop department A from acting once the case was re-dispatched to B', () => {
    // Prepare
    const moved = ok(
      applyAction(fixture('returnFromSigned'), { type: 'approveReturn', department: OTHER_DEPT }, supervisor, NOW),
    );

    // Act
    const byA = applyAction(moved.next, { type: 'sign' }, dept, NOW);
    const byB = applyAction(moved.next, { type: 'sign' }, otherDept, NOW);

    // Assess
    expect(code(byA)).toBe('NOT_YOUR_CASE');
    expect(ok(byB).next.state).toBe('signed');
  });
});

describe('Function: applyAction (payload checks)', () => {
  const table: { name: string; row: Row; actor: Actor; action: Action; want: string; now?: string }[] = [
    {
      name: 'reject without reason',
      row: 'received',
      actor: agent,
      action: { type: 'reject' },
      want: 'REASON_REQUIRED',
    },
    {
      name: 'reject with blanks',
      row: 'triage',
      actor: agent,
      action: { type: 'reject', reason: ' \n ' },
      want: 'REASON_REQUIRED',
    },
    {
      name: 'return without reason',
      row: 'signed',
      actor: dept,
      action: { type: 'requestReturn' },
      want: 'REASON_REQUIRED',
    },
    {
      name: 'return rejection without reason',
      row: 'returnFromSigned',
      actor: supervisor,
      action: { type: 'rejectReturn' },
      want: 'REASON_REQUIRED',
    },
    {
      name: 'redispatch without reason',
      row: 'signed',
      actor: supervisor,
      action: { type: 'redispatch', department: OTHER_DEPT },
      want: 'REASON_REQUIRED',
    },
    {
      name: 'extension without reason',
      row: 'signed',
      actor: dept,
      action: { type: 'requestExtension', newDueAt: '2025-10-27T23:59:59+08:00' },
      want: 'REASON_REQUIRED',
    },
    {
      name: 'extension rejection without reason',
      row: 'signedExtensionPending',
      actor: supervisor,
      action: { type: 'rejectExtension' },
      want: 'REASON_REQUIRED',
    },
    {
      name: 'closure rejection without reason',
      row: 'resolved',
      actor: supervisor,
      action: { type: 'rejectClosure' },
      want: 'REASON_REQUIRED',
    },
    {
      name: 'reopen without reason',
      row: 'closed',
      actor: citizen,
      action: { type: 'reopen', reason: '' },
      want: 'REASON_REQUIRED',
    },
    { name: 'answer without text', row: 'received', actor: agent, action: { type: 'answer' }, want: 'TEXT_REQUIRED' },
    {
      name: 'resolve without text',
      row: 'signed',
      actor: dept,
      action: { type: 'resolve', text: '   ' },
      want: 'TEXT_REQUIRED',
    },
    { name: 'note without text', row: 'signed', actor: dept, action: { type: 'addNote' }, want: 'TEXT_REQUIRED' },
    {
      name: 'citizen update without text',
      row: 'signed',
      actor: citizen,
      action: { type: 'citizenUpdate' },
      want: 'TEXT_REQUIRED',
    },
    {
      name: 'dispatch without department',
      row: 'received',
      actor: supervisor,
      action: { type: 'dispatch' },
      want: 'DEPARTMENT_REQUIRED',
    },
    {
      name: 'triage without department',
      row: 'triage',
      actor: supervisor,
      action: { type: 'assignTriage', category: 'ZJ-01' },
      want: 'DEPARTMENT_REQUIRED',
    },
    {
      name: 'triage without category',
      row: 'triage',
      actor: supervisor,
      action: { type: 'assignTriage', department: DEPT },
      want: 'CATEGORY_REQUIRED',
    },
    {
      name: 'approve return without department',
      row: 'returnFromDispatched',
      actor: supervisor,
      action: { type: 'approveReturn' },
      want: 'DEPARTMENT_REQUIRED',
    },
    {
      name: 'approve return to the same department',
      row: 'returnFromDispatched',
      actor: supervisor,
      action: { type: 'approveReturn', department: DEPT },
      want: 'SAME_DEPARTMENT',
    },
    {
      name: 'approve return to the same department with blanks',
      row: 'returnFromDispatched',
      actor: supervisor,
      action: { type: 'approveReturn', department: ` ${DEPT} ` },
      want: 'SAME_DEPARTMENT',
    },
    {
      name: 'redispatch to the same department',
      row: 'signed',
      actor: supervisor,
      action: { type: 'redispatch', department: DEPT, reason: '改派' },
      want: 'SAME_DEPARTMENT',
    },
    {
      name: 'extension without date',
      row: 'signed',
      actor: dept,
      action: { type: 'requestExtension', reason: '需检测' },
      want: 'DUE_DATE_REQUIRED',
    },
    {
      name: 'extension to a date before the due time',
      row: 'signed',
      actor: dept,
      action: { type: 'requestExtension', reason: '需检测', newDueAt: '2025-10-18T23:59:59+08:00' },
      want: 'INVALID_DUE_DATE',
    },
    {
      name: 'extension to exactly the due time',
      row: 'signed',
      actor: dept,
      action: { type: 'requestExtension', reason: '需检测', newDueAt: '2025-10-20T15:59:59Z' },
      want: 'INVALID_DUE_DATE',
    },
    {
      name: 'extension beyond the maximum',
      row: 'signed',
      actor: dept,
      action: { type: 'requestExtension', reason: '需检测', newDueAt: '2025-11-04T00:00:00+08:00' },
      want: 'EXTENSION_TOO_LONG',
    },
    {
      name: 'extension asked at the due time',
      row: 'signed',
      actor: dept,
      action: { type: 'requestExtension', reason: '需检测', newDueAt: '2025-10-27T23:59:59+08:00' },
      now: '2025-10-20T23:59:59+08:00',
      want: 'EXTENSION_TOO_LATE',
    },
    {
      name: 'return after the return window',
      row: 'dispatched',
      actor: dept,
      action: { type: 'requestReturn', reason: '非本单位' },
      now: '2025-10-14T00:00:00+08:00',
      want: 'RETURN_WINDOW_CLOSED',
    },
    {
      name: 'follow-up without a result',
      row: 'followUp',
      actor: agent,
      action: { type: 'recordFollowUp', satisfaction: '满意' },
      want: 'FOLLOW_UP_RESULT_REQUIRED',
    },
    {
      name: 'follow-up without satisfaction',
      row: 'followUp',
      actor: agent,
      action: { type: 'recordFollowUp', resolved: true },
      want: 'FOLLOW_UP_RESULT_REQUIRED',
    },
    {
      name: 'unknown action type',
      row: 'signed',
      actor: dept,
      action: { type: 'teleport' } as never,
      want: 'INVALID_ACTION',
    },
    {
      name: 'reason of the wrong type',
      row: 'received',
      actor: agent,
      action: { type: 'reject', reason: 42 } as never,
      want: 'INVALID_ACTION',
    },
    {
      name: 'reason too long',
      row: 'received',
      actor: agent,
      action: { type: 'reject', reason: '长'.repeat(1001) },
      want: 'INVALID_ACTION',
    },
    {
      name: 'satisfaction outside the scale',
      row: 'followUp',
      actor: agent,
      action: { type: 'recordFollowUp', satisfaction: '很好', resolved: true } as never,
      want: 'INVALID_ACTION',
    },
    {
      name: 'due date without offset',
      row: 'signed',
      actor: dept,
      action: { type: 'requestExtension', reason: 'x', newDueAt: '2025-10-27 23:59' },
      want: 'INVALID_ACTION',
    },
    { name: 'null action', row: 'signed', actor: dept, action: null as never, want: 'INVALID_ACTION' },
    {
      name: 'unknown role',
      row: 'signed',
      actor: { role: 'mayor', id: 'm' } as never,
      action: { type: 'sign' },
      want: 'INVALID_ACTOR',
    },
    {
      name: 'empty actor id',
      row: 'signed',
      actor: { role: 'supervisor', id: '' },
      action: { type: 'addNote', text: 'x' },
      want: 'INVALID_ACTOR',
    },
    {
      name: 'bad clock',
      row: 'signed',
      actor: dept,
      action: { type: 'contact' },
      now: 'yesterday',
      want: 'INVALID_TIME',
    },
    {
      name: 'clock without offset',
      row: 'signed',
      actor: dept,
      action: { type: 'contact' },
      now: '2025-10-10T10:00:00',
      want: 'INVALID_TIME',
    },
  ];

  it.each(table)('should refuse $name with $want', ({ row, actor, action, want, now }) => {
    // Act
    const result = applyAction(deepFreeze(fixture(row)), action, actor, now ?? NOW);

    // Assess
    expect(code(result)).toBe(want);
    if (!result.ok) expect(result.error.status).toBe(LIFECYCLE_ERRORS[want as keyof typeof LIFECYCLE_ERRORS]);
  });

  it('should refuse a direct answer to anything but a consultation', () => {
    // Prepare
    const complaint: CaseSnapshot = { ...fixture('received'), nature: '投诉' };

    // Act
    const result = applyAction(complaint, { type: 'answer', text: '答复' }, agent, NOW);

    // Assess
    expect(code(result)).toBe('NOT_A_CONSULTATION');
  });

  it('should refuse a malformed snapshot as a value, without throwing', () => {
    // Act
    const results = [
      null,
      42,
      {},
      { ...fixture('signed'), state: 'limbo' },
      { ...fixture('signed'), pending: 'x' },
    ].map((s) => applyAction(s as never, { type: 'addNote', text: 'x' }, supervisor, NOW));

    // Assess
    expect(results.map(code)).toEqual(Array(5).fill('INVALID_SNAPSHOT'));
  });

  it('should skip the window checks when the SLA engine has not set the windows', () => {
    // Prepare
    const open: CaseSnapshot = {
      ...fixture('signed'),
      windows: { returnBy: null, dueAt: null, extensionLatest: null },
    };
    const late = '2030-01-01T00:00:00+08:00';

    // Act
    const ret = applyAction(open, { type: 'requestReturn', reason: '非本单位' }, dept, late);
    const ext = applyAction(
      open,
      { type: 'requestExtension', reason: '需检测', newDueAt: '2030-02-01T00:00:00+08:00' },
      dept,
      late,
    );
    const past = applyAction(
      open,
      { type: 'requestExtension', reason: '需检测', newDueAt: '2029-12-31T00:00:00+08:00' },
      dept,
      late,
    );

    // Assess
    expect(ok(ret).next.state).toBe('returnRequested');
    expect(ok(ext).next.pending).toMatchObject({ kind: 'extension', newDueAt: '2030-02-01T00:00:00+08:00' });
    expect(code(past)).toBe('INVALID_DUE_DATE');
  });

  it('should accept a return at the last instant of the window', () => {
    // Act
    const result = applyAction(
      fixture('dispatched'),
      { type: 'requestReturn', reason: '非本单位' },
      dept,
      '2025-10-13T15:59:59Z',
    );

    // Assess
    expect(ok(result).next.pending).toMatchObject({ kind: 'return', from: 'dispatched', reason: '非本单位' });
  });
});

describe('Function: applyAction (effects)', () => {
  it('should record signing and the first contact only once', () => {
    // Prepare
    const signed = ok(applyAction(fixture('dispatched'), { type: 'sign' }, dept, '2025-10-09T10:00:00+08:00')).next;

    // Act
    const first = ok(applyAction(signed, { type: 'contact', text: '电话联系' }, dept, '2025-10-09T11:00:00+08:00'));
    const second = ok(applyAction(first.next, { type: 'contact' }, dept, '2025-10-09T15:00:00+08:00'));

    // Assess
    expect(signed.timestamps.signedAt).toBe('2025-10-09T10:00:00+08:00');
    expect(first.next.timestamps.firstContactAt).toBe('2025-10-09T11:00:00+08:00');
    expect(first.audit.details).toEqual({ note: '电话联系', firstContact: true });
    expect(first.audit.text).toBeUndefined();
    expect(second.next.timestamps.firstContactAt).toBe('2025-10-09T11:00:00+08:00');
    expect(second.audit.details).toEqual({ firstContact: false });
  });

  it('should move the due time and count the extension when it is approved', () => {
    // Act
    const result = ok(applyAction(fixture('signedExtensionPending'), { type: 'approveExtension' }, supervisor, NOW));

    // Assess
    expect(result.next.windows.dueAt).toBe('2025-10-27T23:59:59+08:00');
    expect(result.next.pending).toBeNull();
    expect(result.next.counts.extensionCount).toBe(1);
    expect(result.audit.details).toEqual({
      newDueAt: '2025-10-27T23:59:59+08:00',
      previousDueAt: '2025-10-20T23:59:59+08:00',
    });
    expect(result.audit.visibility).toBe('public');
  });

  it('should keep the due time when an extension is rejected', () => {
    // Act
    const result = ok(
      applyAction(fixture('signedExtensionPending'), { type: 'rejectExtension', reason: '不充分' }, supervisor, NOW),
    );

    // Assess
    expect(result.next.windows.dueAt).toBe('2025-10-20T23:59:59+08:00');
    expect(result.next.pending).toBeNull();
    expect(result.next.counts.extensionCount).toBe(0);
  });

  it('should keep handling while an extension is pending, and withdraw it on resolve', () => {
    // Prepare
    const pending = fixture('signedExtensionPending');

    // Act
    const contact = ok(applyAction(pending, { type: 'contact' }, dept, NOW));
    const resolved = ok(applyAction(pending, { type: 'resolve', text: '已处理' }, dept, NOW));

    // Assess
    expect(contact.next.pending).toEqual(pending.pending);
    expect(resolved.next.pending).toBeNull();
    expect(resolved.audit.details).toEqual({ extensionWithdrawn: true });
    expect(resolved.next.timestamps.resolvedAt).toBe(NOW);
  });

  it('should re-dispatch on an approved return: new department, fresh cycle, cleared windows', () => {
    // Act
    const result = ok(
      applyAction(
        fixture('returnFromSigned'),
        { type: 'approveReturn', department: OTHER_DEPT, category: 'SW-01' },
        supervisor,
        NOW,
      ),
    );

    // Assess
    expect(result.next).toMatchObject({
      state: 'dispatched',
      department: OTHER_DEPT,
      category: 'SW-01',
      pending: null,
    });
    expect(result.next.counts.returnCount).toBe(1);
    expect(result.next.windows).toEqual({ returnBy: null, dueAt: null, extensionLatest: null });
    expect(result.next.timestamps).toMatchObject({
      dispatchedAt: NOW,
      signedAt: null,
      firstContactAt: null,
      resolvedAt: null,
    });
    expect(result.audit.details).toEqual({ category: 'SW-01', previousDepartment: DEPT, returnReason: '非本单位职责' });
    expect(result.event.detail).toMatchObject({ department: OTHER_DEPT, category: 'SW-01', state: 'dispatched' });
  });

  it('should count a supervisor re-dispatch apart from returns, and drop a pending extension', () => {
    // Act
    const result = ok(
      applyAction(
        fixture('signedExtensionPending'),
        { type: 'redispatch', department: OTHER_DEPT, reason: '分类错误' },
        supervisor,
        NOW,
      ),
    );

    // Assess
    expect(result.next.counts).toMatchObject({ redispatchCount: 1, returnCount: 0 });
    expect(result.next.pending).toBeNull();
    expect(result.audit.reason).toBe('分类错误');
  });

  it('should send a rejected return back to where it came from', () => {
    // Act
    const fromSigned = ok(
      applyAction(fixture('returnFromSigned'), { type: 'rejectReturn', reason: '继续办理' }, supervisor, NOW),
    );
    const fromDispatched = ok(
      applyAction(fixture('returnFromDispatched'), { type: 'rejectReturn', reason: '继续办理' }, supervisor, NOW),
    );

    // Assess
    expect(fromSigned.next.state).toBe('signed');
    expect(fromDispatched.next.state).toBe('dispatched');
    expect(fromSigned.next.pending).toBeNull();
    expect(fromSigned.next.department).toBe(DEPT);
  });

  it('should send a rejected closure back to handling without its resolved time', () => {
    // Act
    const result = ok(
      applyAction(fixture('resolved'), { type: 'rejectClosure', reason: '未回应诉求' }, supervisor, NOW),
    );

    // Assess
    expect(result.next.state).toBe('signed');
    expect(result.next.timestamps.resolvedAt).toBeNull();
    expect(result.audit.visibility).toBe('internal');
  });

  const followUps = [
    { satisfaction: '满意', resolved: true, to: 'closed' },
    { satisfaction: '基本满意', resolved: true, to: 'closed' },
    { satisfaction: '不满意', resolved: true, to: 'dispatched' },
    { satisfaction: '满意', resolved: false, to: 'dispatched' },
    { satisfaction: '不满意', resolved: false, to: 'dispatched' },
  ] as const;

  it.each(followUps)(
    'should turn a follow-up of $satisfaction / resolved $resolved into $to',
    ({ satisfaction, resolved, to }) => {
      // Act
      const result = ok(
        applyAction(
          fixture('followUp'),
          { type: 'recordFollowUp', satisfaction, resolved, text: '市民说' },
          citizen,
          NOW,
        ),
      );

      // Assess
      expect(result.next.state).toBe(to);
      expect(result.next.satisfaction).toBe(satisfaction);
      expect(result.next.resolvedFlag).toBe(resolved);
      expect(result.next.department).toBe(DEPT);
      expect(result.next.counts.reopenCount).toBe(to === 'dispatched' ? 1 : 0);
      expect(result.next.timestamps.closedAt).toBe(to === 'closed' ? NOW : null);
      expect(result.event.detailType).toBe(to === 'closed' ? 'Case.Closed' : 'Case.Dispatched');
      expect(result.audit.details).toMatchObject({
        satisfaction,
        resolved,
        reopened: to === 'dispatched',
        note: '市民说',
      });
    },
  );

  it('should reopen a closed case to the same department on a citizen repeat', () => {
    // Act
    const result = ok(applyAction(fixture('closed'), { type: 'reopen', reason: '路灯又坏了' }, citizen, NOW));

    // Assess
    expect(result.next).toMatchObject({ state: 'dispatched', department: DEPT });
    expect(result.next.counts.reopenCount).toBe(1);
    expect(result.next.timestamps.closedAt).toBeNull();
    expect(result.audit).toMatchObject({
      reason: '路灯又坏了',
      visibility: 'public',
      actor: { role: 'citizen', id: CITIZEN },
    });
  });

  it('should close a consultation at once when it is answered, and archive it later', () => {
    // Act
    const answered = ok(applyAction(fixture('received'), { type: 'answer', text: '请到服务中心办理' }, agent, NOW));
    const archived = ok(
      applyAction(answered.next, { type: 'archive' }, { role: 'system', id: 'archiver' }, '2025-11-01T00:00:00+08:00'),
    );

    // Assess
    expect(answered.next.timestamps.closedAt).toBe(NOW);
    expect(archived.next.state).toBe('archived');
    expect(archived.next.timestamps.archivedAt).toBe('2025-11-01T00:00:00+08:00');
  });

  it('should add notes without changing the state, internal unless asked otherwise', () => {
    // Act
    const internal = ok(applyAction(fixture('signed'), { type: 'addNote', text: '已催办' }, supervisor, NOW));
    const open = ok(
      applyAction(fixture('signed'), { type: 'addNote', text: '预计周五完成', visibility: 'public' }, dept, NOW),
    );

    // Assess
    expect(internal.next.state).toBe('signed');
    expect(internal.next.version).toBe(4);
    expect(internal.audit.visibility).toBe('internal');
    expect(open.audit.visibility).toBe('public');
    expect(open.event.detailType).toBe('Case.NoteAdded');
  });

  it('should trim reasons and texts before recording them', () => {
    // Act
    const result = ok(applyAction(fixture('received'), { type: 'reject', reason: '  不属于受理范围 \n' }, agent, NOW));

    // Assess
    expect(result.audit.reason).toBe('不属于受理范围');
  });

  it('should produce snapshots that the stored-shape schema accepts', () => {
    // Prepare
    const snapshots = ROWS.map(fixture);
    const produced = ok(
      applyAction(fixture('returnFromSigned'), { type: 'approveReturn', department: OTHER_DEPT }, supervisor, NOW),
    ).next;

    // Act
    const results = [...snapshots, produced].map((s) => CaseSnapshotSchema.safeParse(s).success);

    // Assess
    expect(results.every(Boolean)).toBe(true);
  });

  it('should carry the deadlines object through untouched (it belongs to the SLA engine)', () => {
    // Prepare
    const deadlines = { generation: 7, custom: { anything: [1, 2, 3] } };
    const snapshot: CaseSnapshot<typeof deadlines> = { ...fixture('dispatched'), deadlines };

    // Act
    const result = applyAction(snapshot, { type: 'sign' }, dept, NOW);

    // Assess
    expect(result.ok && result.next.deadlines).toBe(deadlines);
  });
});

describe('Function: receiveCase', () => {
  it('should open a case in received at version 1 with a public 受理 record', () => {
    // Act
    const result = receiveCase(
      { caseId: 'C1', receivedAt: '2025-10-09T09:00:00+08:00', nature: '咨询', citizenRef: CITIZEN, deadlines: {} },
      { role: 'system', id: 'intake' },
    );

    // Assess
    const r = ok(result as ApplyResult);
    expect(r.next).toMatchObject({ caseId: 'C1', state: 'received', version: 1, department: null, nature: '咨询' });
    expect(r.audit).toEqual({
      at: '2025-10-09T09:00:00+08:00',
      version: 1,
      actor: { role: 'system', id: 'intake' },
      action: 'receive',
      to: 'received',
      department: null,
      visibility: 'public',
    });
    expect(r.event.detailType).toBe('Case.Received');
    expect(CaseSnapshotSchema.safeParse(r.next).success).toBe(true);
    expect(allowedActions(r.next, agent)).toEqual(['queueForTriage', 'reject', 'answer', 'addNote', 'citizenUpdate']);
  });

  it('should refuse a case without id or with a bad received time', () => {
    // Act
    const noId = receiveCase({ caseId: '', receivedAt: NOW, deadlines: {} }, supervisor);
    const badTime = receiveCase({ caseId: 'C1', receivedAt: '2025-13-45', deadlines: {} }, supervisor);

    // Assess
    expect(code(noId as ApplyResult)).toBe('INVALID_SNAPSHOT');
    expect(code(badTime as ApplyResult)).toBe('INVALID_TIME');
  });
});

describe('Constant: LIFECYCLE_ERRORS', () => {
  it('should give every error a 4xx or 5xx status', () => {
    // Assess
    for (const status of Object.values(LIFECYCLE_ERRORS)) expect(status).toBeGreaterThanOrEqual(400);
  });
});
