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
import { CityLoopError, isCityLoopError } from '#core/errors.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { acceptReport, idemKeyOf } from '#core/intake/accept.ts';
import { enforceCitizenLimit } from '#core/intake/limits.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import { type HttpEvent, type HttpResult, header, httpErrors, json, parseBody } from '../lib/http.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';

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
  // Keys in the order the one form lists them (optional ones only when given).
  const draft: Record<string, unknown> = {
    channel: 'web',
    receivedAt: toShanghaiIso(now),
    citizen,
    title: body.title,
    text: body.text,
  };
  if (Object.keys(location).length > 0) draft.location = location;
  if (str(body.nature)) draft.nature = body.nature;
  if (str(body.category)) draft.categoryHint = body.category;
  draft.language = str(body.language) ?? 'zh-CN';
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

/** A submission without photos: what `webPhotoAttachments` answers `undefined` for without looking further. */
export const noPhotos = (photos: unknown): boolean => photos === undefined || photos === null || photos === '';

async function submit(event: HttpEvent): Promise<HttpResult> {
  const rt = getRuntime();
  const body = parseBody(event);
  // 照片: only what the upload slots really hold (functions/http/photos.ts, loaded only for a submission with photos:
  // it brings the mini-program's upload rules with their XML parser, and the S3 presigner on AWS).
  const attachments = noPhotos(body.photos)
    ? undefined
    : await import('./photos.ts').then((p) => p.webPhotoAttachments(body.photos, p.photoStorage()));
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

async function route(event: HttpEvent): Promise<HttpResult> {
  const method = event.requestContext?.http?.method ?? 'GET';
  const tn = event.pathParameters?.trackingNo;
  if (method === 'POST' && tn === undefined) return submit(event);
  // The citizen's own view and actions (./citizen-requests.ts, with the case service and the citizen view) load on
  // the first such request: a report submission never needs them.
  if (method === 'POST') {
    return (await import('./citizen-requests.ts')).citizenAction(event, event.rawPath?.split('/').pop() ?? '');
  }
  if (method === 'GET') return (await import('./citizen-requests.ts')).lookup(event);
  throw new CityLoopError('METHOD_NOT_ALLOWED', `method ${method} not allowed`, 405);
}

export const handler = middy<HttpEvent, HttpResult>().use(httpErrors()).handler(route);
