/**
 * 部门接口 (department API), `/api/dept/...`: a department lists and works its own cases. Every route needs a
 * department credential (Cognito group `dept-<id>`; locally an API key); another department's case answers 404
 * NOT_FOUND exactly like a case that does not exist, so ids cannot be probed.
 *
 *   GET  /api/dept/cases?state=&limit=&cursor=    my cases, by state then deadline: up to `limit` (default 100,
 *                                                 at most 500) per state; `more` gives each state with more cases
 *                                                 the `cursor` of its next page (ask with that `state` and `cursor`)
 *   GET  /api/dept/cases/{caseId}                 one case, with the citizen's contact and the full trace
 *   POST /api/dept/cases/{caseId}/sign            签收        { text? }
 *   POST /api/dept/cases/{caseId}/contact         先行联系    { text? }
 *   POST /api/dept/cases/{caseId}/return          退单申请    { reason, attachments? }
 *   POST /api/dept/cases/{caseId}/extension       延期申请    { reason, newDueAt }
 *   POST /api/dept/cases/{caseId}/resolve         办结反馈    { text, attachments? }
 *   POST /api/dept/cases/{caseId}/notes           备注        { text, attachments?, visibility? }
 * Every POST also takes `expectedVersion` (or `If-Match`): the case version the caller saw; otherwise 409 CONFLICT.
 */
import middy from '@middy/core';
import { CityLoopError } from '#core/errors.ts';
import { type ActionType, CASE_STATES } from '#core/lifecycle/states.ts';
import { caseDetail, caseSummary } from '#core/views/staff.ts';
import { requireStaff } from '../lib/auth.ts';
import { caseIdOf, caseService, cursorOf, departmentName, limitOf, nowIso, staffAction } from '../lib/case-context.ts';
import { type HttpEvent, type HttpResult, httpErrors, json } from '../lib/http.ts';

/** Route key → the lifecycle action and the body fields it takes. */
export const DEPT_ACTIONS: Readonly<Record<string, { type: ActionType; fields: readonly string[] }>> = {
  'POST /api/dept/cases/{caseId}/sign': { type: 'sign', fields: ['text'] },
  'POST /api/dept/cases/{caseId}/contact': { type: 'contact', fields: ['text'] },
  'POST /api/dept/cases/{caseId}/return': { type: 'requestReturn', fields: ['reason', 'attachments'] },
  'POST /api/dept/cases/{caseId}/extension': { type: 'requestExtension', fields: ['reason', 'newDueAt'] },
  'POST /api/dept/cases/{caseId}/resolve': { type: 'resolve', fields: ['text', 'attachments'] },
  'POST /api/dept/cases/{caseId}/notes': { type: 'addNote', fields: ['text', 'attachments', 'visibility'] },
};

function stateOf(event: HttpEvent): string | undefined {
  const s = event.queryStringParameters?.state;
  if (s === undefined || s === '') return undefined;
  if (!(CASE_STATES as readonly string[]).includes(s)) {
    throw new CityLoopError('INVALID_STATE', `unknown state: ${s}`, 400, { states: CASE_STATES });
  }
  return s;
}

async function route(event: HttpEvent): Promise<HttpResult> {
  const actor = requireStaff(event, 'department');
  const department = actor.department ?? '';
  const key = event.routeKey ?? '';
  if (key === 'GET /api/dept/cases') {
    const state = stateOf(event);
    const limit = limitOf(event, 100, 500);
    const after = cursorOf(event);
    const { cases, more } = await caseService().listDepartment(department, {
      ...(state ? { state } : {}),
      limit,
      ...(after ? { after } : {}),
    });
    return json(200, { department, cases: cases.map((c) => caseSummary(c, departmentName)), more });
  }
  if (key === 'GET /api/dept/cases/{caseId}') {
    const c = await caseService().get(caseIdOf(event), actor);
    return json(200, caseDetail(c, actor, nowIso(), departmentName));
  }
  const spec = DEPT_ACTIONS[key];
  if (!spec) throw new CityLoopError('NOT_FOUND', `no route ${key}`, 404);
  return staffAction(event, actor, spec.type, spec.fields);
}

export const handler = middy<HttpEvent, HttpResult>().use(httpErrors()).handler(route);
