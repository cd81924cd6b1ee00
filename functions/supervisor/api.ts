/**
 * 督办/审核接口 (supervisor API), `/api/supervisor/...`: the 12345 centre approves returns and extensions,
 * re-dispatches, reviews closures, records the follow-up call, reopens, archives, and works the manual triage queue.
 * Every route needs a supervisor credential (Cognito group `supervisors`; locally an API key).
 *
 *   GET  /api/supervisor/cases?department=&state=&limit=   cases, up to `limit` per state (all departments when none is given; `truncated`
 *                                                           when there were more: with department AND state, a page
 *                                                           that `cursor` continues, as `more` says)
 *   GET  /api/supervisor/triage?limit=&cursor=              人工分拨 queue: cases waiting for category + department
 *   GET  /api/supervisor/cases/{caseId}                     one case, full
 *   POST /api/supervisor/cases/{caseId}/triage              人工分拨      { category, department }
 *   POST /api/supervisor/cases/{caseId}/reject              不予受理      { reason }
 *   POST /api/supervisor/cases/{caseId}/answer              直接答复      { text, attachments? }  (咨询 only)
 *   POST /api/supervisor/cases/{caseId}/return/approve      退单通过→改派 { department, category?, reason? }
 *   POST /api/supervisor/cases/{caseId}/return/reject       退单驳回      { reason }
 *   POST /api/supervisor/cases/{caseId}/extension/approve   延期批准      { reason? }
 *   POST /api/supervisor/cases/{caseId}/extension/reject    延期驳回      { reason }
 *   POST /api/supervisor/cases/{caseId}/redispatch          改派          { department, category?, reason }
 *   POST /api/supervisor/cases/{caseId}/closure/approve     审核通过      { text? }
 *   POST /api/supervisor/cases/{caseId}/closure/reject      审核退回      { reason }
 *   POST /api/supervisor/cases/{caseId}/follow-up           回访          { satisfaction, resolved, text? }
 *   POST /api/supervisor/cases/{caseId}/reopen              重办          { reason }
 *   POST /api/supervisor/cases/{caseId}/archive             归档          {}
 *   POST /api/supervisor/cases/{caseId}/notes               备注          { text, attachments?, visibility? }
 * Every POST also takes `expectedVersion` (or `If-Match`); a case changed meanwhile answers 409 CONFLICT.
 */
import middy from '@middy/core';
import type { Case } from '#core/case.ts';
import { CityLoopError } from '#core/errors.ts';
import type { Action } from '#core/lifecycle/actions.ts';
import { type ActionType, CASE_STATES, ENDED_STATES } from '#core/lifecycle/states.ts';
import type { Actor } from '#core/lifecycle/types.ts';
import type { BusEvent } from '#core/ports.ts';
import { MANUAL_TRIAGE } from '#core/routing.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { caseEvent } from '#core/triage/triage.ts';
import { caseDetail, caseSummary } from '#core/views/staff.ts';
import { requireStaff } from '../lib/auth.ts';
import {
  bodyOf,
  caseIdOf,
  caseService,
  cursorOf,
  departmentName,
  expectedVersionOf,
  limitOf,
  nowIso,
  staffAction,
} from '../lib/case-context.ts';
import { type HttpEvent, type HttpResult, httpErrors, json } from '../lib/http.ts';
import { getRuntime } from '../lib/runtime.ts';

const P = 'POST /api/supervisor/cases/{caseId}';

export const SUPERVISOR_ACTIONS: Readonly<Record<string, { type: ActionType; fields: readonly string[] }>> = {
  [`${P}/triage`]: { type: 'assignTriage', fields: ['department', 'category'] },
  [`${P}/reject`]: { type: 'reject', fields: ['reason'] },
  [`${P}/answer`]: { type: 'answer', fields: ['text', 'attachments'] },
  [`${P}/return/approve`]: { type: 'approveReturn', fields: ['department', 'category', 'reason'] },
  [`${P}/return/reject`]: { type: 'rejectReturn', fields: ['reason'] },
  [`${P}/extension/approve`]: { type: 'approveExtension', fields: ['reason'] },
  [`${P}/extension/reject`]: { type: 'rejectExtension', fields: ['reason'] },
  [`${P}/redispatch`]: { type: 'redispatch', fields: ['department', 'category', 'reason'] },
  [`${P}/closure/approve`]: { type: 'approveClosure', fields: ['text'] },
  [`${P}/closure/reject`]: { type: 'rejectClosure', fields: ['reason'] },
  [`${P}/follow-up`]: { type: 'recordFollowUp', fields: ['satisfaction', 'resolved', 'text'] },
  [`${P}/reopen`]: { type: 'reopen', fields: ['reason'] },
  [`${P}/archive`]: { type: 'archive', fields: [] },
  [`${P}/notes`]: { type: 'addNote', fields: ['text', 'attachments', 'visibility'] },
};

const dueOf = (c: Case): string => String(c.windows?.dueAt ?? c.receivedAt);
/** Cases still being worked on first (by state, then the nearest deadline), then the ended ones, latest first. */
const byStateThenDue = (a: Case, b: Case): number => {
  const ended = ENDED_STATES.has(a.state);
  return (
    Number(ended) - Number(ENDED_STATES.has(b.state)) ||
    a.state.localeCompare(b.state) ||
    (ended ? dueOf(b).localeCompare(dueOf(a)) : dueOf(a).localeCompare(dueOf(b))) ||
    a.caseId.localeCompare(b.caseId)
  );
};

async function list(event: HttpEvent): Promise<HttpResult> {
  const q = event.queryStringParameters ?? {};
  const state = q.state || undefined;
  if (state !== undefined && !(CASE_STATES as readonly string[]).includes(state)) {
    throw new CityLoopError('INVALID_STATE', `unknown state: ${state}`, 400, { states: CASE_STATES });
  }
  const department = q.department || undefined;
  if (department !== undefined && !defaultDepartments.some((d) => d.id === department)) {
    throw new CityLoopError('UNKNOWN_DEPARTMENT', `unknown department: ${department}`, 400);
  }
  const limit = limitOf(event, 100, 500);
  const after = cursorOf(event);
  const service = caseService();
  // One department in one state pages on like a department's own list (`cursor` → `more`).
  if (department && state) {
    const { cases, more } = await service.listDepartment(department, { state, limit, ...(after ? { after } : {}) });
    return json(200, { cases: cases.map((c) => caseSummary(c, departmentName)), more });
  }
  if (after !== undefined) {
    throw new CityLoopError(
      'CURSOR_NEEDS_STATE',
      '翻页须指定部门和状态 (a cursor reads one state of one department: give `department` and `state`)',
      400,
    );
  }
  const targets = department ? [department] : defaultDepartments.map((d) => d.id);
  // Across every department without a state: the work in progress, one read a department (`listDepartmentOpen`). One
  // department: every state (`listDepartment`). Either way a department whose read is cut also gives its requests
  // waiting for a supervisor from the sparse `pending` index, kept below whatever their rank.
  const found = await Promise.all(
    targets.map(async (d) => {
      if (department || state) {
        const page = await service.listDepartment(d, { ...(state ? { state } : {}), limit });
        return { cases: page.cases, cut: Object.keys(page.more).length > 0 };
      }
      const open = await service.listDepartmentOpen(d, limit);
      return { cases: open.cases, cut: open.truncated };
    }),
  );
  const all = found.flatMap((f) => f.cases).sort(byStateThenDue);
  // Up to `limit` of each state, the most urgent first: a cut over the whole list would keep the states whose names
  // sort first (hundreds of 派单 cases) and drop the ones waiting for a supervisor (办结反馈, 退单申请). A case with a
  // request waiting for a supervisor (延期申请 on a case in hand) is kept whatever its rank.
  const perState = new Map<string, number>();
  const cases = all.filter((c) => {
    const n = (perState.get(c.state) ?? 0) + 1;
    perState.set(c.state, n);
    return n <= limit || c.pending != null;
  });
  // More cases than shown: narrow by department and state to page through them.
  const truncated = all.length > cases.length || found.some((f) => f.cut);
  return json(200, { cases: cases.map((c) => caseSummary(c, departmentName)), truncated });
}

/** States in which a department holds the case and can be chased. */
const CHASEABLE = new Set(['dispatched', 'signed', 'returnRequested']);

/**
 * 督办/催办 by hand: an internal 【督办】 note on the case (one conditional write, in the trace), then `Case.Chased` on the
 * bus, which the rules route to the handling department's queue and to the supervisors' queue (like the sweep's chases).
 */
async function chase(event: HttpEvent, actor: Actor): Promise<HttpResult> {
  const body = bodyOf(event);
  const text =
    typeof body.text === 'string' && body.text.trim() !== '' ? body.text.trim().slice(0, 500) : '请尽快办理并反馈';
  const service = caseService();
  const current = await service.get(caseIdOf(event), actor);
  if (!CHASEABLE.has(current.state)) {
    throw new CityLoopError('NOT_CHASEABLE', `当前状态不能催办 a case in state ${current.state} cannot be chased`, 409);
  }
  const expectedVersion = expectedVersionOf(event, body);
  const done = await service.act(
    current.caseId,
    { type: 'addNote', text: `【督办】${text}`, visibility: 'internal' } as Action,
    actor,
    expectedVersion === undefined ? {} : { expectedVersion },
  );
  const c = done.case;
  const base = caseEvent(c, 'Case.Chased', c.department ? departmentName(c.department) : undefined);
  const chased: BusEvent = {
    detailType: 'Case.Chased',
    resources: [c.caseId],
    detail: { ...base.detail, manual: true, by: actor.id, text },
  };
  const { failed } = await getRuntime().bus.publish([chased]);
  return json(failed.length ? 502 : 200, {
    case: caseDetail(c, actor, nowIso(), departmentName),
    chased: failed.length === 0,
    ...(failed.length ? { error: { code: 'NOT_ANNOUNCED', message: '督办已记录，通知发送失败，请重试' } } : {}),
  });
}

async function route(event: HttpEvent): Promise<HttpResult> {
  const actor = requireStaff(event, 'supervisor');
  const key = event.routeKey ?? '';
  if (key === 'GET /api/supervisor/cases') return list(event);
  if (key === 'GET /api/supervisor/triage') {
    const after = cursorOf(event);
    const { cases, more } = await caseService().listDepartment(MANUAL_TRIAGE, {
      state: 'triage',
      limit: limitOf(event, 100, 500),
      ...(after ? { after } : {}),
    });
    // A storm can leave more than a page waiting for 人工分拨: `more.triage` is the next page's cursor.
    return json(200, { cases: cases.map((c) => caseSummary(c, departmentName)), more });
  }
  if (key === 'GET /api/supervisor/cases/{caseId}') {
    const c = await caseService().get(caseIdOf(event), actor);
    return json(200, caseDetail(c, actor, nowIso(), departmentName));
  }
  if (key === `${P}/chase`) return chase(event, actor);
  const spec = SUPERVISOR_ACTIONS[key];
  if (!spec) throw new CityLoopError('NOT_FOUND', `no route ${key}`, 404);
  return staffAction(event, actor, spec.type, spec.fields);
}

export const handler = middy<HttpEvent, HttpResult>().use(httpErrors()).handler(route);
