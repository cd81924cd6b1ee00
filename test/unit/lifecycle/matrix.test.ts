/**
 * Every state (row) × every action × every role, against an expected table written out here from the domain brief,
 * not derived from the implementation.
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '#core/lifecycle/actions.ts';
import { allowedActions, applyAction } from '#core/lifecycle/machine.ts';
import {
  ACTION_TYPES,
  type ActionType,
  CASE_STATES,
  type CaseState,
  ENDED_STATES,
  OPEN_STATES,
  ROLES,
  type Role,
} from '#core/lifecycle/states.ts';
import { deepFreeze, fixture, NOW, OTHER_DEPT, ownerActor, ROWS, type Row } from './fixtures.ts';

type Cell = CaseState | { error: string };

interface Expected {
  roles: Role[];
  payload: Action;
  event: string;
  /** Rows where role and state allow the action; every row not listed must answer ILLEGAL_TRANSITION. */
  cells: Partial<Record<Row, Cell>>;
}

const OPEN_ROWS: Row[] = [
  'received',
  'triage',
  'dispatched',
  'signed',
  'signedExtensionPending',
  'returnFromDispatched',
  'returnFromSigned',
  'resolved',
  'followUp',
];
const same = (rows: Row[]): Partial<Record<Row, Cell>> =>
  Object.fromEntries(rows.map((r) => [r, fixture(r).state])) as Partial<Record<Row, Cell>>;

const TABLE: Record<ActionType, Expected> = {
  dispatch: {
    roles: ['system', 'supervisor'],
    payload: { type: 'dispatch', department: OTHER_DEPT, category: 'SW-02-01' },
    event: 'Case.Dispatched',
    cells: { received: 'dispatched' },
  },
  queueForTriage: {
    roles: ['system', 'agent', 'supervisor'],
    payload: { type: 'queueForTriage', reason: '分类置信度低' },
    event: 'Case.TriageRequired',
    cells: { received: 'triage' },
  },
  assignTriage: {
    roles: ['supervisor'],
    payload: { type: 'assignTriage', department: OTHER_DEPT, category: 'SW-02-01' },
    event: 'Case.Dispatched',
    cells: { triage: 'dispatched' },
  },
  reject: {
    roles: ['agent', 'supervisor'],
    payload: { type: 'reject', reason: '不属于政府职能范围' },
    event: 'Case.Rejected',
    cells: { received: 'rejected', triage: 'rejected' },
  },
  answer: {
    roles: ['agent', 'supervisor'],
    payload: { type: 'answer', text: '办理居住证请携带身份证到街道服务中心。' },
    event: 'Case.Answered',
    cells: { received: 'answered', triage: 'answered' },
  },
  sign: {
    roles: ['department'],
    payload: { type: 'sign' },
    event: 'Case.Signed',
    cells: { dispatched: 'signed' },
  },
  contact: {
    roles: ['department'],
    payload: { type: 'contact', text: '电话联系市民，约定明日上门' },
    event: 'Case.Contacted',
    cells: { signed: 'signed', signedExtensionPending: 'signed' },
  },
  requestReturn: {
    roles: ['department'],
    payload: { type: 'requestReturn', reason: '供水管网属水务局' },
    event: 'Case.ReturnRequested',
    cells: {
      dispatched: 'returnRequested',
      signed: 'returnRequested',
      signedExtensionPending: { error: 'PENDING_REQUEST' },
    },
  },
  approveReturn: {
    roles: ['supervisor'],
    payload: { type: 'approveReturn', department: OTHER_DEPT },
    event: 'Case.Dispatched',
    cells: { returnFromDispatched: 'dispatched', returnFromSigned: 'dispatched' },
  },
  rejectReturn: {
    roles: ['supervisor'],
    payload: { type: 'rejectReturn', reason: '属本单位职责，请继续办理' },
    event: 'Case.ReturnRejected',
    cells: { returnFromDispatched: 'dispatched', returnFromSigned: 'signed' },
  },
  redispatch: {
    roles: ['supervisor'],
    payload: { type: 'redispatch', department: OTHER_DEPT, reason: '分类错误' },
    event: 'Case.Dispatched',
    cells: { dispatched: 'dispatched', signed: 'dispatched', signedExtensionPending: 'dispatched' },
  },
  requestExtension: {
    roles: ['department'],
    payload: { type: 'requestExtension', reason: '需第三方检测', newDueAt: '2025-10-27T23:59:59+08:00' },
    event: 'Case.ExtensionRequested',
    cells: { signed: 'signed', signedExtensionPending: { error: 'PENDING_REQUEST' } },
  },
  approveExtension: {
    roles: ['supervisor'],
    payload: { type: 'approveExtension' },
    event: 'Case.ExtensionApproved',
    cells: { signed: { error: 'NO_PENDING_REQUEST' }, signedExtensionPending: 'signed' },
  },
  rejectExtension: {
    roles: ['supervisor'],
    payload: { type: 'rejectExtension', reason: '理由不充分' },
    event: 'Case.ExtensionRejected',
    cells: { signed: { error: 'NO_PENDING_REQUEST' }, signedExtensionPending: 'signed' },
  },
  resolve: {
    roles: ['department'],
    payload: { type: 'resolve', text: '已修复路灯，恢复照明。' },
    event: 'Case.Resolved',
    cells: { signed: 'resolved', signedExtensionPending: 'resolved' },
  },
  approveClosure: {
    roles: ['supervisor'],
    payload: { type: 'approveClosure' },
    event: 'Case.ClosureApproved',
    cells: { resolved: 'followUp' },
  },
  rejectClosure: {
    roles: ['supervisor'],
    payload: { type: 'rejectClosure', reason: '答复未回应诉求' },
    event: 'Case.ClosureRejected',
    cells: { resolved: 'signed' },
  },
  recordFollowUp: {
    roles: ['supervisor', 'agent', 'citizen'],
    payload: { type: 'recordFollowUp', satisfaction: '满意', resolved: true },
    event: 'Case.Closed',
    cells: { followUp: 'closed' },
  },
  reopen: {
    roles: ['citizen', 'agent', 'supervisor'],
    payload: { type: 'reopen', reason: '路灯又坏了' },
    event: 'Case.Dispatched',
    cells: { closed: 'dispatched' },
  },
  archive: {
    roles: ['supervisor', 'system'],
    payload: { type: 'archive' },
    event: 'Case.Archived',
    cells: { closed: 'archived', answered: 'archived', rejected: 'archived' },
  },
  addNote: {
    roles: ['agent', 'department', 'supervisor', 'system'],
    payload: { type: 'addNote', text: '已电话催办' },
    event: 'Case.NoteAdded',
    cells: same([...OPEN_ROWS, 'closed', 'answered', 'rejected']),
  },
  citizenUpdate: {
    roles: ['citizen', 'agent'],
    payload: { type: 'citizenUpdate', text: '补充：晚上十点后更吵' },
    event: 'Case.CitizenUpdated',
    cells: same(OPEN_ROWS),
  },
};

/** The expected outcome of one cell, by the order the brief gives: role, ownership, state, then the cell. */
function expected(row: Row, type: ActionType, role: Role): Cell {
  const e = TABLE[type];
  if (!e.roles.includes(role)) return { error: 'FORBIDDEN_ROLE' };
  // A department owns only cases assigned to it: a case with no department belongs to none.
  if (role === 'department' && fixture(row).department === null) return { error: 'NOT_YOUR_CASE' };
  return e.cells[row] ?? { error: 'ILLEGAL_TRANSITION' };
}

const cases = ROWS.flatMap((row) =>
  ACTION_TYPES.flatMap((type) => ROLES.map((role) => ({ row, type, role, want: expected(row, type, role) }))),
);

describe('Function: applyAction (state × action × role matrix)', () => {
  it('should cover every action of the machine in the table', () => {
    // Assess
    expect(Object.keys(TABLE).sort()).toEqual([...ACTION_TYPES].sort());
    expect(cases).toHaveLength(ROWS.length * ACTION_TYPES.length * ROLES.length);
  });

  it.each(cases)('should answer $row × $type × $role with the expected outcome', ({ row, type, role, want }) => {
    // Prepare
    const snapshot = deepFreeze(fixture(row));
    const before = JSON.stringify(snapshot);
    const actor = ownerActor(role, snapshot);

    // Act
    const result = applyAction(snapshot, TABLE[type].payload, actor, NOW);

    // Assess
    expect(JSON.stringify(snapshot)).toBe(before);
    if (typeof want === 'object') {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe(want.error);
      return;
    }
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.next.state).toBe(want);
    expect(result.next.version).toBe(snapshot.version + 1);
    expect(result.audit).toMatchObject({
      action: type,
      from: snapshot.state,
      to: want,
      at: NOW,
      version: snapshot.version + 1,
    });
    expect(result.audit.actor).toEqual({ role, id: actor.id });
    expect(result.event.detailType).toBe(TABLE[type].event);
    expect(result.event.detail).toMatchObject({
      caseId: snapshot.caseId,
      version: snapshot.version + 1,
      state: want,
      department: result.next.department,
      eventId: `${snapshot.caseId}:${snapshot.version + 1}:${TABLE[type].event}`,
    });
    expect(result.next.deadlines).toEqual(snapshot.deadlines);
  });
});

describe('Function: allowedActions', () => {
  const combos = ROWS.flatMap((row) => ROLES.map((role) => ({ row, role })));

  it.each(combos)('should offer $role on $row exactly the actions the table allows', ({ row, role }) => {
    // Prepare
    const snapshot = fixture(row);
    const want = ACTION_TYPES.filter((t) => typeof expected(row, t, role) === 'string');

    // Act
    const got = allowedActions(snapshot, ownerActor(role, snapshot), NOW);

    // Assess
    expect(got).toEqual(want);
  });

  it('should offer nothing on an archived case to anyone', () => {
    // Prepare
    const snapshot = fixture('archived');

    // Act
    const offered = ROLES.flatMap((role) => allowedActions(snapshot, ownerActor(role, snapshot)));

    // Assess
    expect(offered).toEqual([]);
  });

  it('should leave out a return after the return window and an extension after the due time', () => {
    // Prepare
    const signed = fixture('signed');
    const dept = ownerActor('department', signed);

    // Act
    const inTime = allowedActions(signed, dept, '2025-10-13T23:00:00+08:00');
    const lateForReturn = allowedActions(signed, dept, '2025-10-14T08:00:00+08:00');
    const lateForExtension = allowedActions(signed, dept, '2025-10-21T08:00:00+08:00');

    // Assess
    expect(inTime).toEqual(['contact', 'requestReturn', 'requestExtension', 'resolve', 'addNote']);
    expect(lateForReturn).toEqual(['contact', 'requestExtension', 'resolve', 'addNote']);
    expect(lateForExtension).toEqual(['contact', 'resolve', 'addNote']);
  });

  it('should offer nothing for a malformed actor or snapshot', () => {
    // Act
    const badActor = allowedActions(fixture('signed'), { role: 'mayor', id: 'x' } as never);
    const badSnapshot = allowedActions({ state: 'nowhere' } as never, { role: 'supervisor', id: 's' });

    // Assess
    expect(badActor).toEqual([]);
    expect(badSnapshot).toEqual([]);
  });
});

describe('Constants: OPEN_STATES and ENDED_STATES', () => {
  it('should split every case state into open or ended, none in both', () => {
    const open = new Set<string>(OPEN_STATES);
    expect(CASE_STATES.filter((s) => open.has(s) === ENDED_STATES.has(s))).toEqual([]);
  });
});
