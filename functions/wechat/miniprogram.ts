/**
 * 微信小程序 API (`/channels/wechat/miniprogram/*`), called by the mini-program with `wx.request`:
 * - `POST login`  `{ code }` from `wx.login` → code2Session → `{ token, expiresAt }` (our own session, never WeChat's
 *   session_key);
 * - `POST photos/upload-url` `{ contentType, size }` → `{ uploadUrl, method, headers, storageKey, expiresIn }`: on AWS
 *   an S3 pre-signed PUT (type and length signed in, 5 minutes); locally the `photos` route below (POST), so the phone
 *   runs one code path: send the bytes with `method` and `headers` to `uploadUrl`, then submit `storageKey`;
 * - `POST photos` the image bytes (`content-type: image/*`, ≤ 4 MiB) → `{ storageKey, contentType, size }`;
 * - `POST submit` `{ clientRequestId, text, photos?, location? (wx.getLocation, GCJ-02), ... }` → 202 tracking number;
 * - `GET mine[?cursor=]` the citizen's own requests with status, 20 at a time, newest first; `next` (when present) is
 *   the cursor of the following page.
 * Every call but login carries `Authorization: Bearer <token>`; the openid comes from the token, never the body.
 * Photo keys sit under the citizen's digest: `submit` refuses keys outside the caller's prefixes (403 FOREIGN_UPLOAD)
 * and keys with nothing (or no image) behind them (400 UPLOAD_MISSING / UPLOAD_INVALID).
 * https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/login.html
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { type Code2SessionPort, createHttpCode2Session } from '#channels/wechat/code2session.ts';
import {
  MAX_JSON_BYTES,
  type PhotoRef,
  parseLoginRequest,
  parseSubmitRequest,
  parseUploadUrlRequest,
  sniffImageType,
  submitToIntake,
  UPLOAD_LIMIT,
  UPLOAD_TYPES,
} from '#channels/wechat/miniprogram.ts';
import type { Result } from '#channels/wechat/result.ts';
import {
  bearerToken,
  issueSessionToken,
  type Session,
  type SessionConfig,
  verifySessionToken,
} from '#channels/wechat/session.ts';
import type { Case } from '#core/case.ts';
import { badCursor, decodeCursor, encodeCursor } from '#core/cursor.ts';
import { CityLoopError } from '#core/errors.ts';
import { shanghaiDay, toShanghaiIso } from '#core/ids.ts';
import { type Accepted, acceptReport } from '#core/intake/accept.ts';
import { enforceCitizenLimit } from '#core/intake/limits.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { BlobStore, Clock, ReportCursor, StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { citizenView } from '#core/views/citizen.ts';
import { type HttpEvent, type HttpResult, header, httpErrors, json, parseBody, rawBody } from '../lib/http.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';
import { requireValue, wechatConfig } from './config.ts';
import { lazyS3PhotoPorts } from './lazy-uploads.ts';
import type { PhotoUploads } from './s3-uploads.ts';

/** Under Lambda's 6 MB synchronous payload once base64-encoded by API Gateway. */
export const PHOTO_LIMIT = UPLOAD_LIMIT;
/** Lifetime of a pre-signed upload URL, in seconds. */
export const UPLOAD_URL_TTL = 300;

export interface MiniProgramDeps {
  clock: Clock;
  blobs: BlobStore;
  store: {
    listReportsOfCitizen(key: string, limit?: number, after?: ReportCursor): Promise<StoredReport[]>;
    getCase(caseId: string): Promise<Case | undefined>;
  };
  accept(request: IntakeRequest): Promise<Accepted>;
  code2Session: Code2SessionPort;
  session: SessionConfig;
  /** Direct uploads to S3 (AWS); absent locally, where photos go through the `photos` route. */
  uploads?: PhotoUploads;
}

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

function sessionOf(event: HttpEvent, deps: MiniProgramDeps): Session {
  const token = bearerToken(header(event, 'authorization'));
  if (!token) throw new CityLoopError('INVALID_SESSION', '请先登录 log in first (Authorization: Bearer <token>)', 401);
  return unwrap(verifySessionToken(token, deps.session));
}

/** Photos live under the citizen's digest, so ownership is a prefix check and no openid appears in keys. */
function photoPrefix(openid: string): string {
  return `uploads/wechat/${citizenKey({ openid })}/`;
}

/** Where pre-signed uploads land (AWS). */
function uploadPrefix(openid: string): string {
  return `attachments/wechat/upload/${citizenKey({ openid })}/`;
}

const extOf = (type: string) => type.slice('image/'.length);
/** `<uuid>.<ext>` of a key handed out by `upload-url`, for the local `photos?upload=` form. */
const UPLOAD_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(jpeg|png|webp)$/;

/** The `photos` route as an absolute URL (the mini-program's wx.request needs one), relative without a host. */
function photosRouteUrl(event: HttpEvent, name: string): string {
  const path = (event.rawPath ?? '').replace(/\/upload-url$/, '');
  const host = event.requestContext?.domainName ?? header(event, 'host');
  const proto = header(event, 'x-forwarded-proto') ?? 'http';
  return `${host ? `${proto}://${host}` : ''}${path}?upload=${encodeURIComponent(name)}`;
}

async function login(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const { code } = unwrap(parseLoginRequest(parseBody(event, MAX_JSON_BYTES)));
  const { openid } = await deps.code2Session.exchange(code);
  const { token, session } = issueSessionToken(openid, deps.session);
  log.info('wechat mini-program login', { openid });
  return json(200, {
    token,
    expiresAt: toShanghaiIso(new Date(session.expiresAt * 1000)),
    expiresIn: session.expiresAt - session.issuedAt,
  });
}

async function uploadUrl(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const { openid } = sessionOf(event, deps);
  const { contentType, size } = unwrap(parseUploadUrlRequest(parseBody(event, MAX_JSON_BYTES)));
  const name = `${randomUUID()}.${extOf(contentType)}`;
  if (deps.uploads) {
    const storageKey = `${uploadPrefix(openid)}${name}`;
    const url = await deps.uploads.presignPut(storageKey, contentType, size, UPLOAD_URL_TTL);
    return json(200, {
      uploadUrl: url,
      method: 'PUT',
      headers: { 'content-type': contentType },
      storageKey,
      expiresIn: UPLOAD_URL_TTL,
    });
  }
  return json(200, {
    uploadUrl: photosRouteUrl(event, name),
    method: 'POST',
    headers: { 'content-type': contentType },
    storageKey: `${photoPrefix(openid)}${name}`,
    expiresIn: UPLOAD_URL_TTL,
  });
}

async function uploadPhoto(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const { openid } = sessionOf(event, deps);
  const name = event.queryStringParameters?.upload;
  if (name !== undefined && !UPLOAD_NAME.test(name)) {
    throw new CityLoopError('INVALID_REQUEST', 'upload is not a name handed out by upload-url', 400);
  }
  const bytes = rawBody(event, PHOTO_LIMIT);
  const contentType = sniffImageType(bytes);
  if (!contentType) {
    throw new CityLoopError(
      'UNSUPPORTED_MEDIA_TYPE',
      '只接受 JPEG、PNG、WebP、HEIC 图片 only JPEG, PNG, WebP or HEIC',
      415,
    );
  }
  if (name !== undefined && !name.endsWith(`.${extOf(contentType)}`)) {
    throw new CityLoopError('UNSUPPORTED_MEDIA_TYPE', `图片类型与申请不符 the image is ${contentType}`, 415);
  }
  const storageKey = `${photoPrefix(openid)}${name ?? `${randomUUID()}.${extOf(contentType)}`}`;
  await deps.blobs.put(storageKey, bytes, contentType);
  return json(201, { storageKey, contentType, size: bytes.length });
}

/** A photo as stored, not as the client describes it; only under the caller's own prefixes. */
async function storedPhoto(p: PhotoRef, openid: string, deps: MiniProgramDeps): Promise<PhotoRef> {
  const missing = () => new CityLoopError('UPLOAD_MISSING', `照片未上传 photo ${p.storageKey} was not uploaded`, 400);
  if (p.storageKey.startsWith(uploadPrefix(openid))) {
    // Pre-signed uploads exist on AWS only; locally nothing is ever handed out under this prefix.
    const stored = deps.uploads ? await deps.uploads.inspect(p.storageKey) : undefined;
    if (!stored) throw missing();
    const type = sniffImageType(stored.head);
    const declared = UPLOAD_TYPES.find((t) => t === stored.contentType);
    if (!type || type !== declared || stored.size < 1 || stored.size > UPLOAD_LIMIT) {
      throw new CityLoopError(
        'UPLOAD_INVALID',
        `照片不是所申请的图片 photo ${p.storageKey} is not the ${declared ?? 'image'} it was uploaded as`,
        400,
      );
    }
    return { ...p, contentType: type, size: stored.size };
  }
  if (!p.storageKey.startsWith(photoPrefix(openid))) {
    throw new CityLoopError('FOREIGN_UPLOAD', `照片不属于当前用户 photo ${p.storageKey} is not yours`, 403);
  }
  const bytes = await deps.blobs.get(p.storageKey);
  if (!bytes) throw missing();
  const type = sniffImageType(bytes);
  if (!type) throw new CityLoopError('UPLOAD_INVALID', `照片不是图片 photo ${p.storageKey} is not an image`, 400);
  return { ...p, contentType: type, size: bytes.length };
}

async function submit(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const { openid } = sessionOf(event, deps);
  const body = parseBody(event, MAX_JSON_BYTES);
  const draft = unwrap(parseSubmitRequest(body));
  const prefixes = [photoPrefix(openid), uploadPrefix(openid)];
  const photos = [];
  for (const p of draft.photos ?? []) photos.push(await storedPhoto(p, openid, deps));
  const now = deps.clock.now();
  const intake = unwrap(
    submitToIntake(
      { ...draft, ...(photos.length ? { photos } : {}) },
      { openid, receivedAt: toShanghaiIso(now), photoKeyPrefix: prefixes },
    ),
  );
  const rawKey = `raw/wechat/${shanghaiDay(now)}/mp-${citizenKey({ openid })}-${draft.clientRequestId}.json`;
  await deps.blobs.put(rawKey, Buffer.from(JSON.stringify(body), 'utf8'), 'application/json');
  const accepted = await deps.accept(normalizeIntake({ ...intake, rawKey }));
  log.info('report accepted', { trackingNo: accepted.trackingNo, channel: 'wechat', created: accepted.created });
  return json(202, {
    trackingNo: accepted.trackingNo,
    status: 'received',
    statusLabel: '已受理',
    duplicate: !accepted.created,
    message: `您的诉求已受理，受理编号 ${accepted.trackingNo}，可在"我的诉求"查看办理进度。`,
  });
}

/** Requests per page of 我的诉求. */
export const MINE_PAGE = 20;

/** `?cursor=` of 我的诉求: base64url of `[acceptedAt, idemKey]` of the last request shown (a chat can file dozens). */
function mineCursorOf(event: HttpEvent): ReportCursor | undefined {
  const raw = event.queryStringParameters?.cursor;
  if (raw === undefined || raw === '') return undefined;
  const text = decodeCursor(raw);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length < 200)) {
    throw badCursor();
  }
  return { acceptedAt: v[0] as string, idemKey: v[1] as string };
}

async function mine(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const { openid } = sessionOf(event, deps);
  const after = mineCursorOf(event);
  const key = citizenKey({ openid });
  // One more than a page: whether another follows.
  const found = key ? await deps.store.listReportsOfCitizen(key, MINE_PAGE + 1, after) : [];
  const reports = found.slice(0, MINE_PAGE);
  const cases = await Promise.all(reports.map((r) => deps.store.getCase(r.caseId ?? r.trackingNo)));
  const requests = reports.map((r, i) => citizenView(r, cases[i], defaultDepartments));
  const last = reports.at(-1);
  const next =
    found.length > MINE_PAGE && last ? encodeCursor(JSON.stringify([last.acceptedAt, last.idemKey])) : undefined;
  return json(200, { requests, ...(next ? { next } : {}) });
}

const ACTIONS: Record<string, { method: string; run: (e: HttpEvent, d: MiniProgramDeps) => Promise<HttpResult> }> = {
  login: { method: 'POST', run: login },
  photos: { method: 'POST', run: uploadPhoto },
  'upload-url': { method: 'POST', run: uploadUrl },
  submit: { method: 'POST', run: submit },
  mine: { method: 'GET', run: mine },
};

export async function handleMiniProgram(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const method = event.requestContext?.http?.method ?? 'GET';
  const name = (event.rawPath ?? '').split('/').filter(Boolean).pop() ?? '';
  const action = Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
  if (!action) throw new CityLoopError('NOT_FOUND', `no mini-program action ${name.slice(0, 40)}`, 404);
  if (action.method !== method) throw new CityLoopError('METHOD_NOT_ALLOWED', `method ${method} not allowed`, 405);
  return action.run(event, deps);
}

let ports:
  | { code2Session: Code2SessionPort; session: Omit<SessionConfig, 'now'>; uploads: PhotoUploads | undefined }
  | undefined;

async function runtimeDeps(): Promise<MiniProgramDeps> {
  const rt = getRuntime();
  if (!ports) {
    const { miniProgram: mp } = await wechatConfig();
    ports = {
      code2Session: createHttpCode2Session({
        baseUrl: mp.apiBase,
        appId: requireValue(mp.appId, 'WECHAT_MP_APP_ID'),
        secret: requireValue(mp.appSecret, 'WECHAT_MP_APP_SECRET'),
      }),
      session: { secret: requireValue(mp.sessionSecret, 'WECHAT_SESSION_SECRET'), ttlSeconds: mp.sessionTtlSeconds },
      // Loaded on the first photo call (most requests carry none).
      uploads: process.env.BLOB_BUCKET ? lazyS3PhotoPorts(process.env.BLOB_BUCKET).uploads : undefined,
    };
  }
  return {
    clock: rt.clock,
    blobs: rt.blobs,
    store: rt.store,
    // Per citizen: a few reports an hour and a day from one contact (the same submission again is never refused).
    accept: async (request) => {
      await enforceCitizenLimit(rt.store, request, rt.clock.now());
      return acceptReport(rt, request);
    },
    code2Session: ports.code2Session,
    session: { ...ports.session, now: () => getRuntime().clock.now().getTime() },
    ...(ports.uploads ? { uploads: ports.uploads } : {}),
  };
}

/** Drops the cached ports (after a configuration change in tests or the local stack). */
export function resetMiniProgramHandler(): void {
  ports = undefined;
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(httpErrors())
  .handler(async function wechatMiniProgramHandler(event) {
    return handleMiniProgram(event, await runtimeDeps());
  });
