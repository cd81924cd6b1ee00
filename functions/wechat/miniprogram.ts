/**
 * 微信小程序 API (`/channels/wechat/miniprogram/*`), called by the mini-program with `wx.request`:
 * - `POST login`  `{ code }` from `wx.login` → code2Session → `{ token, expiresAt }` (our own session, never WeChat's
 *   session_key);
 * - `POST photos` the image bytes (`content-type: image/*`, ≤ 4 MiB) → `{ storageKey, contentType, size }`;
 * - `POST submit` `{ clientRequestId, text, photos?, location? (wx.getLocation, GCJ-02), ... }` → 202 tracking number;
 * - `GET mine`    the citizen's own requests with status.
 * Every call but login carries `Authorization: Bearer <token>`; the openid comes from the token, never the body.
 * https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/login.html
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { type Code2SessionPort, createHttpCode2Session } from '#channels/wechat/code2session.ts';
import {
  MAX_JSON_BYTES,
  parseLoginRequest,
  parseSubmitRequest,
  sniffImageType,
  submitToIntake,
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
import { CityLoopError } from '#core/errors.ts';
import { shanghaiDay, toShanghaiIso } from '#core/ids.ts';
import { type Accepted, acceptReport } from '#core/intake/accept.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { BlobStore, Clock, StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { citizenView } from '#core/views/citizen.ts';
import { type HttpEvent, type HttpResult, header, httpErrors, json, parseBody, rawBody } from '../lib/http.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';
import { requireValue, wechatConfig } from './config.ts';

/** Under Lambda's 6 MB synchronous payload once base64-encoded by API Gateway. */
export const PHOTO_LIMIT = 4 * 1024 * 1024;

export interface MiniProgramDeps {
  clock: Clock;
  blobs: BlobStore;
  store: {
    listReportsOfCitizen(key: string, limit?: number): Promise<StoredReport[]>;
    getCase(caseId: string): Promise<Case | undefined>;
  };
  accept(request: IntakeRequest): Promise<Accepted>;
  code2Session: Code2SessionPort;
  session: SessionConfig;
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

async function uploadPhoto(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const { openid } = sessionOf(event, deps);
  const bytes = rawBody(event, PHOTO_LIMIT);
  const contentType = sniffImageType(bytes);
  if (!contentType) {
    throw new CityLoopError(
      'UNSUPPORTED_MEDIA_TYPE',
      '只接受 JPEG、PNG、WebP、HEIC 图片 only JPEG, PNG, WebP or HEIC',
      415,
    );
  }
  const storageKey = `${photoPrefix(openid)}${randomUUID()}.${contentType.slice('image/'.length)}`;
  await deps.blobs.put(storageKey, bytes, contentType);
  return json(201, { storageKey, contentType, size: bytes.length });
}

async function submit(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const { openid } = sessionOf(event, deps);
  const body = parseBody(event, MAX_JSON_BYTES);
  const draft = unwrap(parseSubmitRequest(body));
  // The photos as stored, not as the client describes them.
  const photos = [];
  for (const p of draft.photos ?? []) {
    const bytes = p.storageKey.startsWith(photoPrefix(openid)) ? await deps.blobs.get(p.storageKey) : undefined;
    const type = bytes ? sniffImageType(bytes) : undefined;
    if (!bytes || !type)
      throw new CityLoopError('PHOTO_NOT_FOUND', `照片未上传 photo ${p.storageKey} was not uploaded`, 400);
    photos.push({ ...p, contentType: type, size: bytes.length });
  }
  const now = deps.clock.now();
  const intake = unwrap(
    submitToIntake(
      { ...draft, ...(photos.length ? { photos } : {}) },
      { openid, receivedAt: toShanghaiIso(now), photoKeyPrefix: photoPrefix(openid) },
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

async function mine(event: HttpEvent, deps: MiniProgramDeps): Promise<HttpResult> {
  const { openid } = sessionOf(event, deps);
  const key = citizenKey({ openid });
  const reports = key ? await deps.store.listReportsOfCitizen(key, 20) : [];
  const requests = [];
  for (const r of reports)
    requests.push(citizenView(r, await deps.store.getCase(r.caseId ?? r.trackingNo), defaultDepartments));
  return json(200, { requests });
}

const ACTIONS: Record<string, { method: string; run: (e: HttpEvent, d: MiniProgramDeps) => Promise<HttpResult> }> = {
  login: { method: 'POST', run: login },
  photos: { method: 'POST', run: uploadPhoto },
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

let ports: { code2Session: Code2SessionPort; session: Omit<SessionConfig, 'now'> } | undefined;

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
    };
  }
  return {
    clock: rt.clock,
    blobs: rt.blobs,
    store: rt.store,
    accept: (request) => acceptReport(rt, request),
    code2Session: ports.code2Session,
    session: { ...ports.session, now: () => getRuntime().clock.now().getTime() },
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
