/**
 * 工单状态 and 操作: the ids, roles and Chinese labels of the case lifecycle (see ../shared/brief/domain.md).
 *
 * Two modelling choices, on purpose:
 * - 延期申请 (extension request) is NOT a state: handling continues while it is pending, so it lives in
 *   `CaseSnapshot.pending` beside the `signed` (处置中) state. The department may keep contacting the citizen, add
 *   notes and even resolve (resolving withdraws the pending request: the work is done, the extra time is moot).
 * - 审核通过 (centre review) is the action `approveClosure`, not a resting state: it moves the case straight to
 *   `followUp` (待回访), since nothing else can happen between the review and the call back.
 * 退单申请 IS a state: while it is pending the department has handed the case back and does not work on it.
 */

/** Where a case rests between two actions. */
export const CASE_STATES = [
  'received',
  'rejected',
  'triage',
  'dispatched',
  'signed',
  'returnRequested',
  'resolved',
  'followUp',
  'closed',
  'answered',
  'archived',
] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** Staff-facing labels (工作台). */
export const STATE_LABELS: Readonly<Record<CaseState, string>> = {
  received: '受理',
  rejected: '不予受理',
  triage: '人工分拨',
  dispatched: '派单',
  signed: '签收',
  returnRequested: '退单申请',
  resolved: '办结反馈',
  followUp: '回访',
  closed: '办结',
  answered: '直接答复',
  archived: '归档',
};

/**
 * Citizen-facing status: internal steps (退单申请, 人工分拨, the centre's review) are not the citizen's business, so
 * they read as the step the citizen can understand.
 */
export const PUBLIC_STATE_LABELS: Readonly<Record<CaseState, string>> = {
  received: '已受理',
  rejected: '不予受理',
  triage: '已受理',
  dispatched: '已派单',
  signed: '处理中',
  returnRequested: '处理中',
  resolved: '处理中',
  followUp: '待回访',
  closed: '已办结',
  answered: '已答复',
  archived: '已办结',
};

/** States in which the case is concluded; only `archive` (and notes) may follow, or `reopen` from `closed`. */
export const CONCLUDED_STATES: readonly CaseState[] = ['closed', 'answered', 'rejected'];
/** States in which nothing is left to do on a case (concluded or archived): lists show only the latest of them. */
export const ENDED_STATES: ReadonlySet<string> = new Set<string>([...CONCLUDED_STATES, 'archived']);

export const ROLES = ['citizen', 'agent', 'department', 'supervisor', 'system'] as const;
export type Role = (typeof ROLES)[number];

/** Role labels safe to show a citizen (no names, no ids). */
export const PUBLIC_ROLE_LABELS: Readonly<Record<Role, string>> = {
  citizen: '市民',
  agent: '12345热线',
  department: '承办单位',
  supervisor: '12345热线',
  system: '12345热线',
};

export const ACTION_TYPES = [
  'dispatch',
  'queueForTriage',
  'assignTriage',
  'reject',
  'answer',
  'sign',
  'contact',
  'requestReturn',
  'approveReturn',
  'rejectReturn',
  'redispatch',
  'requestExtension',
  'approveExtension',
  'rejectExtension',
  'resolve',
  'approveClosure',
  'rejectClosure',
  'recordFollowUp',
  'reopen',
  'archive',
  'addNote',
  'citizenUpdate',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** `receive` is the audit action of case creation (`openCase`); it is not something one applies to a case. */
export type AuditAction = ActionType | 'receive';

export const ACTION_LABELS: Readonly<Record<AuditAction, string>> = {
  receive: '受理',
  dispatch: '派单',
  queueForTriage: '转人工分拨',
  assignTriage: '人工分拨',
  reject: '不予受理',
  answer: '直接答复',
  sign: '签收',
  contact: '先行联系',
  requestReturn: '退单申请',
  approveReturn: '退单审核通过（改派）',
  rejectReturn: '退单驳回',
  redispatch: '改派',
  requestExtension: '延期申请',
  approveExtension: '延期批准',
  rejectExtension: '延期驳回',
  resolve: '办结反馈',
  approveClosure: '审核通过',
  rejectClosure: '审核退回',
  recordFollowUp: '回访',
  reopen: '重办',
  archive: '归档',
  addNote: '备注',
  citizenUpdate: '市民补充',
};

/** Who may ever perform an action (the state decides the rest). */
export const ACTION_ROLES: Readonly<Record<ActionType, readonly Role[]>> = {
  dispatch: ['system', 'supervisor'],
  queueForTriage: ['system', 'agent', 'supervisor'],
  assignTriage: ['supervisor'],
  reject: ['agent', 'supervisor'],
  answer: ['agent', 'supervisor'],
  sign: ['department'],
  contact: ['department'],
  requestReturn: ['department'],
  approveReturn: ['supervisor'],
  rejectReturn: ['supervisor'],
  redispatch: ['supervisor'],
  requestExtension: ['department'],
  approveExtension: ['supervisor'],
  rejectExtension: ['supervisor'],
  resolve: ['department'],
  approveClosure: ['supervisor'],
  rejectClosure: ['supervisor'],
  recordFollowUp: ['supervisor', 'agent', 'citizen'],
  reopen: ['citizen', 'agent', 'supervisor'],
  archive: ['supervisor', 'system'],
  addNote: ['agent', 'department', 'supervisor', 'system'],
  citizenUpdate: ['citizen', 'agent'],
};

/** States in which work on a case goes on (every state but the ended ones, `ENDED_STATES`). */
export const OPEN_STATES: readonly CaseState[] = [
  'received',
  'triage',
  'dispatched',
  'signed',
  'returnRequested',
  'resolved',
  'followUp',
];

/**
 * From which states an action may start. The target state is decided by the machine (some depend on the payload:
 * `recordFollowUp` closes or reopens; `rejectReturn` goes back to where the return was requested from).
 */
export const ACTION_FROM: Readonly<Record<ActionType, readonly CaseState[]>> = {
  dispatch: ['received'],
  queueForTriage: ['received'],
  assignTriage: ['triage'],
  reject: ['received', 'triage'],
  answer: ['received', 'triage'],
  sign: ['dispatched'],
  contact: ['signed'],
  requestReturn: ['dispatched', 'signed'],
  approveReturn: ['returnRequested'],
  rejectReturn: ['returnRequested'],
  redispatch: ['dispatched', 'signed'],
  requestExtension: ['signed'],
  approveExtension: ['signed'],
  rejectExtension: ['signed'],
  resolve: ['signed'],
  approveClosure: ['resolved'],
  rejectClosure: ['resolved'],
  recordFollowUp: ['followUp'],
  reopen: ['closed'],
  archive: ['closed', 'answered', 'rejected'],
  addNote: [...OPEN_STATES, 'closed', 'answered', 'rejected'],
  citizenUpdate: OPEN_STATES,
};

/** 回访满意度. */
export const SATISFACTION = ['满意', '基本满意', '不满意'] as const;
export type Satisfaction = (typeof SATISFACTION)[number];
