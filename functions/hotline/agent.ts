/**
 * 话务员接口 (agent API), `/api/agent/...`, for the hotline console. Every route needs an agent credential (Cognito
 * group `agents` on AWS; locally an API key such as `local-agent-001`); supervisors (值班长) may use it too. No
 * credential: 401 UNAUTHENTICATED; a department or other role: 403 FORBIDDEN_ROLE.
 *
 *   GET  /api/agent/calls/{contactId}   the call record Amazon Connect opened: caller number (E.164, from telephony),
 *                                       queue, contact attributes, reports filed from the call, the caller's open cases
 *   POST /api/agent/assist              while typing: { text, title?, location?, contactId? | phone?, category? }
 *                                       → suggested category + confidence + alternatives, title, open cases,
 *                                       duplicateSuggestions (重复件/并案 from the dedupe engine)
 *   POST /api/agent/reports             录入: { contactId, seq? | clientId (walk-in) | ref (letter), citizen?, title?,
 *                                       text, location?, nature?, category?, receivedAt? (letters), answer? }
 *                                       → 202 { trackingNo, duplicate, state: 'received' } or, with `answer` (咨询
 *                                       直接答复), 200 { ..., state: 'answered' }: the case is closed at once;
 *                                       with `attachTo: <caseId>` (关联, from a duplicate suggestion) the call joins
 *                                       that open case as 重复件/并案 (./attach.ts) → 200 { trackingNo (the case's),
 *                                       reportTrackingNo, caseId, relation, state: 'attached' }
 */
import middy from '@middy/core';
import type { CallRecord } from '#channels/hotline/call-record.ts';
import { CONTACT_ID_PATTERN } from '#channels/hotline/connect.ts';
import { CityLoopError } from '#core/errors.ts';
import { type Actor, requireStaff } from '../lib/auth.ts';
import { type HttpEvent, type HttpResult, httpErrors, json, parseBody } from '../lib/http.ts';
import { assistDraft } from './assist.ts';
import { attachCall, attachTargetOf } from './attach.ts';
import { casesOfCitizen } from './caller.ts';
import { type HotlineDeps, runtimeDeps } from './context.ts';
import { submitReport } from './submit.ts';

export const AGENT_ROUTES = {
  call: 'GET /api/agent/calls/{contactId}',
  assist: 'POST /api/agent/assist',
  reports: 'POST /api/agent/reports',
} as const;

/** The call as the console shows it. */
export function callView(r: CallRecord) {
  return {
    contactId: r.contactId,
    ...(r.initialContactId ? { initialContactId: r.initialContactId } : {}),
    ...(r.previousContactId ? { previousContactId: r.previousContactId } : {}),
    channel: r.channel,
    ...(r.initiationMethod ? { initiationMethod: r.initiationMethod } : {}),
    caller: { ...(r.callerPhone ? { phone: r.callerPhone } : {}), status: r.callerStatus },
    ...(r.dialled ? { dialled: r.dialled } : {}),
    ...(r.queue ? { queue: r.queue } : {}),
    attributes: r.attributes,
    parameters: r.parameters,
    firstSeenAt: r.firstSeenAt,
    updatedAt: r.updatedAt,
    reports: r.reports,
  };
}

async function getCall(event: HttpEvent, deps: HotlineDeps): Promise<HttpResult> {
  const contactId = event.pathParameters?.contactId ?? '';
  if (!CONTACT_ID_PATTERN.test(contactId)) {
    throw new CityLoopError('INVALID_CONTACT_ID', 'contactId 格式不正确 malformed contact id', 400);
  }
  const record = await deps.calls.get(contactId);
  if (!record) {
    throw new CityLoopError('CALL_NOT_FOUND', '未找到该来电记录 no call record for this contact id', 404);
  }
  const history = await casesOfCitizen(
    deps.store,
    record.callerPhone ? { phone: record.callerPhone } : undefined,
    deps.departmentName,
  );
  return json(200, {
    call: callView(record),
    knownReports: history.knownReports,
    knownReportsMore: history.knownReportsMore === true,
    openCases: history.open,
  });
}

export async function handleAgentApi(event: HttpEvent, deps: HotlineDeps): Promise<HttpResult> {
  const actor: Actor = requireStaff(event, 'agent', 'supervisor');
  const key = event.routeKey ?? '';
  if (key === AGENT_ROUTES.call) return getCall(event, deps);
  if (key === AGENT_ROUTES.assist) return json(200, await assistDraft(deps, parseBody(event)));
  if (key === AGENT_ROUTES.reports) {
    const body = parseBody(event);
    const attachTo = attachTargetOf(body);
    if (attachTo !== undefined) {
      const out = await attachCall(deps, actor, body, attachTo);
      return json(200, {
        ...out,
        statusLabel: out.relation === 'repeat' ? '已并入（重复件）' : '已并案',
        message: `已关联到工单 ${out.trackingNo}（${out.relation === 'repeat' ? '重复件' : '并案'}），请告知来电人受理编号 ${out.trackingNo}`,
      });
    }
    const out = await submitReport(deps, actor, body);
    return json(out.state === 'answered' ? 200 : 202, {
      ...out,
      statusLabel: out.state === 'answered' ? '已答复' : '已受理',
      message:
        out.state === 'answered'
          ? `咨询已直接答复并办结，受理编号 ${out.trackingNo}`
          : `已受理，受理编号 ${out.trackingNo}`,
    });
  }
  throw new CityLoopError('NOT_FOUND', `no route ${key}`, 404);
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(httpErrors())
  .handler(async function hotlineAgentHandler(event) {
    return handleAgentApi(event, runtimeDeps());
  });
