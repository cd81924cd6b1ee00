/**
 * 网页渠道 (web channel): `POST /api/requests` accepts a citizen's request (JSON, or form-encoded from the page), with
 * `photos: [{ storageKey, name? }]` uploaded beforehand through `/api/uploads/*` (./photos.ts), and
 * answers 202 with the tracking number once the report is durable; `GET /api/requests/{trackingNo}` answers the
 * citizen with status, department and public history.
 *
 * The citizen's own view and actions on a tracking number (see core/cases/citizen-auth.ts for why):
 *   GET  /api/requests/{trackingNo}[?token=T | ?phone4=NNNN]   with a proof: texts, attachments, due time, actions
 *   POST /api/requests/{trackingNo}/updates     市民补充  { text, token }
 *   POST /api/requests/{trackingNo}/follow-up   回访评价  { satisfaction: 满意|基本满意|不满意, resolved: bool, text?, token }
 * Reading takes the notice link's token or the last 4 digits of the report's phone; acting takes the token. Both POSTs
 * take `expectedVersion` too (409 CONFLICT when the case changed meanwhile). The proof may also come as
 * `x-citizen-token` / `x-citizen-phone4` headers. No proof: 401 CITIZEN_PROOF_REQUIRED; a wrong one: 403
 * CITIZEN_PROOF_INVALID.
 */

import { createHash } from 'node:crypto';
import middy from '@middy/core';
import { checkCitizenProof, type ProofResult } from '#core/cases/citizen-auth.ts';
import { citizenRefOf } from '#core/cases/mapping.ts';
import { CityLoopError, isCityLoopError } from '#core/errors.ts';
import { isTrackingNo, toShanghaiIso } from '#core/ids.ts';
import { acceptReport, idemKeyOf } from '#core/intake/accept.ts';
import { enforceCitizenLimit } from '#core/intake/limits.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { ActionType } from '#core/lifecycle/states.ts';
import type { StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { citizenView } from '#core/views/citizen.ts';
import { actionFrom, bodyOf, caseService, citizenTokenSecret, expectedVersionOf } from '../dept/context.ts';
import { type HttpEvent, type HttpResult, header, httpErrors, json, parseBody } from '../lib/http.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';
import { photoStorage, webPhotoAttachments } from './photos.ts';

/** Maps the web form (JSON or flat form fields) to the one form's field names. */
export function webDraft(body: Record<string, unknown>, now: Date, idempotencyKey: string | undefined) {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const obj = (v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const citizen = { ...obj(body.citizen) };
  for (const k of ['name', 'phone', 'email'] as const) if (str(body[k]) && !citizen[k]) citizen[k] = body[k];
  if (body.anonymous === true || body.anonymous === 'true' || body.anonymous === 'on') citizen.anonymous = true;
  const location = { ...obj(body.location) };
  if (str(body.address) && !location.address) location.address = body.address;
  const draft: Record<string, unknown> = {
    channel: 'web',
    receivedAt: toShanghaiIso(now),
    citizen,
    title: body.title,
    text: body.text,
    ...(Object.keys(location).length ? { location } : {}),
    ...(str(body.nature) ? { nature: body.nature } : {}),
    ...(str(body.category) ? { categoryHint: body.category } : {}),
    language: str(body.language) ?? 'zh-CN',
  };
  // The page sends an Idempotency-Key per form; without one, the same content from the same contact within
  // ten minutes is the same submission (a double click, a refresh).
  draft.channelMessageId =
    idempotencyKey && /^[\w.:-]{8,128}$/.test(idempotencyKey)
      ? `key:${idempotencyKey}`
      : `hash:${createHash('sha256')
          .update(
            JSON.stringify([body.title, body.text, citizen.phone, citizen.email, Math.floor(now.getTime() / 600_000)]),
          )
          .digest('base64url')
          .slice(0, 32)}`;
  return draft;
}

async function submit(event: HttpEvent): Promise<HttpResult> {
  const rt = getRuntime();
  const body = parseBody(event);
  // 照片: only what the upload slots really hold (functions/http/photos.ts).
  const attachments = await webPhotoAttachments(body.photos, photoStorage());
  const draft = webDraft(body, rt.clock.now(), header(event, 'idempotency-key'));
  const request = normalizeIntake(attachments ? { ...draft, attachments } : draft);
  // Per citizen: a few reports an hour and a day from one contact (the same submission again is never refused).
  await citizenLimit(rt.store, request, rt.clock.now());
  const accepted = await acceptReport(rt, request);
  log.info('report accepted', { trackingNo: accepted.trackingNo, channel: 'web', created: accepted.created });
  return json(202, {
    trackingNo: accepted.trackingNo,
    status: 'received',
    statusLabel: '已受理',
    duplicate: !accepted.created,
    message: `您的诉求已受理，受理编号 ${accepted.trackingNo}，可凭编号查询办理进度。`,
  });
}

/**
 * The per-citizen limit with one read in the usual case: the citizen's recent reports (the index query) decide, and
 * only a submission that would be refused is looked up by its idempotency key (the same submission again is never
 * refused). Same answers as `enforceCitizenLimit` reading the key first, one request fewer per report.
 */
async function citizenLimit(
  store: ReturnType<typeof getRuntime>['store'],
  request: IntakeRequest,
  now: Date,
): Promise<void> {
  try {
    await enforceCitizenLimit(
      { getReportByIdemKey: async () => undefined, listReportsOfCitizen: (k, n) => store.listReportsOfCitizen(k, n) },
      request,
      now,
    );
  } catch (e) {
    if (!isCityLoopError(e) || e.code !== 'CITIZEN_RATE_LIMITED') throw e;
    if (await store.getReportByIdemKey(idemKeyOf(request))) return;
    throw e;
  }
}

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

async function lookup(event: HttpEvent): Promise<HttpResult> {
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
async function citizenAction(event: HttpEvent, which: string): Promise<HttpResult> {
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

async function route(event: HttpEvent): Promise<HttpResult> {
  const method = event.requestContext?.http?.method ?? 'GET';
  const tn = event.pathParameters?.trackingNo;
  if (method === 'POST' && tn === undefined) return submit(event);
  if (method === 'POST') return citizenAction(event, event.rawPath?.split('/').pop() ?? '');
  if (method === 'GET') return lookup(event);
  throw new CityLoopError('METHOD_NOT_ALLOWED', `method ${method} not allowed`, 405);
}

export const handler = middy<HttpEvent, HttpResult>().use(httpErrors()).handler(route);
