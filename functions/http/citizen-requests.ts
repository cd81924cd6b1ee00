/**
 * The citizen's own view and actions on a tracking number, for `./requests.ts` (see there for the routes and why a
 * proof is needed): loaded on the first such request, so a cold start that submits a report does not load the case
 * service, the lifecycle machine and the citizen view.
 */
import { checkCitizenProof, type ProofResult } from '#core/cases/citizen-auth.ts';
import { citizenRefOf } from '#core/cases/mapping.ts';
import { CityLoopError } from '#core/errors.ts';
import { isTrackingNo } from '#core/ids.ts';
import type { ActionType } from '#core/lifecycle/states.ts';
import type { StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { citizenView } from '#core/views/citizen.ts';
import { actionFrom, bodyOf, caseService, citizenTokenSecret, expectedVersionOf } from '../lib/case-context.ts';
import { type HttpEvent, type HttpResult, header, json } from '../lib/http.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';

async function findReport(event: HttpEvent): Promise<StoredReport> {
  const tn = event.pathParameters?.trackingNo ?? '';
  if (!isTrackingNo(tn))
    throw new CityLoopError('INVALID_TRACKING_NO', '受理编号格式不正确 malformed tracking number', 400);
  const report = await getRuntime().store.getReportByTrackingNo(tn);
  if (!report) throw new CityLoopError('NOT_FOUND', '未找到该受理编号 no request with this tracking number', 404);
  return report;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The citizen's proof; `tokenOnly` for actions (the phone digits only ever open the view). */
function proofOf(
  event: HttpEvent,
  report: StoredReport,
  body: Record<string, unknown>,
  tokenOnly: boolean,
): ProofResult {
  const q = event.queryStringParameters ?? {};
  const token = str(body.token) ?? header(event, 'x-citizen-token') ?? q.token;
  const phoneLast4 = tokenOnly ? undefined : (header(event, 'x-citizen-phone4') ?? q.phone4);
  return checkCitizenProof({ token, phoneLast4 }, report.trackingNo, report.request.citizen, citizenTokenSecret());
}

const proofInvalid = () =>
  new CityLoopError('CITIZEN_PROOF_INVALID', '验证信息不正确 the link token or phone digits do not match', 403);

export async function lookup(event: HttpEvent): Promise<HttpResult> {
  const report = await findReport(event);
  const proof = proofOf(event, report, {}, false);
  if (proof === 'invalid') throw proofInvalid();
  const c = await getRuntime().store.getCase(report.caseId ?? report.trackingNo);
  // Only the filer (same contact) sees the texts and may act; a co-reporter of the same incident (并案) follows the
  // steps only, never another citizen's words.
  const mine = c === undefined || citizenKey(report.request.citizen) === (citizenRefOf(c) ?? undefined);
  const verified = proof === 'valid' && mine;
  const withToken = verified && proofOf(event, report, {}, true) === 'valid';
  return json(200, citizenView(report, c, defaultDepartments, { verified, mayAct: withToken }));
}

const CITIZEN_ACTIONS: Readonly<Record<string, { type: ActionType; fields: readonly string[] }>> = {
  updates: { type: 'citizenUpdate', fields: ['text'] },
  'follow-up': { type: 'recordFollowUp', fields: ['satisfaction', 'resolved', 'text'] },
};

/** 市民补充 and 回访评价 by the citizen, on their own tracking number. */
export async function citizenAction(event: HttpEvent, which: string): Promise<HttpResult> {
  const spec = CITIZEN_ACTIONS[which];
  if (!spec) throw new CityLoopError('NOT_FOUND', 'no such action', 404);
  const report = await findReport(event);
  const body = bodyOf(event);
  const proof = proofOf(event, report, body, true);
  if (proof === 'none') {
    throw new CityLoopError(
      'CITIZEN_PROOF_REQUIRED',
      '请使用通知短信/邮件中的链接办理 the token of the notice link is required',
      401,
    );
  }
  if (proof === 'invalid') throw proofInvalid();
  const ref = citizenKey(report.request.citizen);
  if (!ref || report.request.citizen.anonymous) throw proofInvalid();
  const action = actionFrom(spec.type, body, spec.fields);
  const expectedVersion = expectedVersionOf(event, body);
  const done = await caseService().act(
    report.caseId ?? report.trackingNo,
    action,
    { role: 'citizen', id: ref },
    expectedVersion === undefined ? {} : { expectedVersion },
  );
  log.info('citizen action', { trackingNo: report.trackingNo, action: spec.type, version: done.case.version });
  return json(200, citizenView(report, done.case, defaultDepartments, { verified: true, mayAct: true }));
}
