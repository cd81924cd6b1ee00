/**
 * 照片 (photos) of the web channel, the mini-program's two-step upload reused (functions/wechat/miniprogram.ts):
 *
 *   POST /api/uploads/upload-url       { contentType, size } → { uploadUrl, method, headers, storageKey, expiresIn }:
 *                                       on AWS an S3 pre-signed PUT (type and length signed in, 5 minutes); locally
 *                                       the `photos` route below. The page sends the bytes with `method` and
 *                                       `headers` to `uploadUrl`, then submits `photos: [{ storageKey, ... }]` with
 *                                       `POST /api/requests` (which calls `webPhotoAttachments`).
 *   POST /api/uploads/photos?upload=N   the image bytes (JPEG/PNG/WebP by their magic number, ≤ 4 MiB) → 201
 *   GET  /api/cases/{caseId}/photos     staff: the photos of the case (every report on it, 市民补充 and staff
 *                                       attachments), each with a short-lived view URL; a department only its own case
 *   GET  /api/uploads/view?key&exp&sig  the bytes behind a view URL (locally; on AWS view URLs are pre-signed S3 GETs)
 *
 * Web citizens have no session, so an upload is owned by its unguessable name (a random UUID under
 * `attachments/web/upload/`); the submission takes only keys of that shape, and only what storage really holds (an
 * image by its first bytes, within the size limit), never what the page says it sent.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import middy from '@middy/core';
import {
  parseUploadUrlRequest,
  sniffImageType,
  UPLOAD_LIMIT,
  UPLOAD_TYPES,
  type UploadType,
} from '#channels/wechat/miniprogram.ts';
import type { Case } from '#core/case.ts';
import type { CaseService } from '#core/cases/service.ts';
import { CityLoopError } from '#core/errors.ts';
import { cleanLine } from '#core/intake/normalize.ts';
import type { Attachment } from '#core/intake/schema.ts';
import type { BlobStore, Clock, ReportStore } from '#core/ports.ts';
import type { CasePhoto } from '#core/views/staff.ts';
import { requireStaff } from '../lib/auth.ts';
import { caseIdOf, caseService, citizenTokenSecret } from '../lib/case-context.ts';
import { type HttpEvent, type HttpResult, httpErrors, json, parseBody, rawBody } from '../lib/http.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';
import { lazyS3PhotoPorts, type S3PhotoPorts } from '../wechat/lazy-uploads.ts';

/** How many photos one web request may carry (the page enforces the same number). */
export const MAX_WEB_PHOTOS = 6;
export const WEB_UPLOAD_PREFIX = 'attachments/web/upload/';
/** Lifetime of an upload URL and of a view URL, in seconds. */
export const UPLOAD_URL_TTL = 300;
export const VIEW_URL_TTL = 600;

export const PHOTO_ROUTES = {
  uploadUrl: 'POST /api/uploads/upload-url',
  upload: 'POST /api/uploads/photos',
  casePhotos: 'GET /api/cases/{caseId}/photos',
  view: 'GET /api/uploads/view',
} as const;

const NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(jpeg|png|webp)$/;
/** Keys a web submission may name: handed out by upload-url, nothing else. */
const WEB_KEY =
  /^attachments\/web\/upload\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(jpeg|png|webp)$/;
/** Keys a view URL may open: attachments only (never raw input). */
const VIEWABLE = /^attachments\/[A-Za-z0-9!_.*'()/-]{1,1000}$/;

export interface PhotoDeps {
  clock: Clock;
  blobs: BlobStore;
  reports: Pick<ReportStore, 'getReportByTrackingNo'>;
  cases: Pick<CaseService, 'get'>;
  /** Signs local view URLs; undefined → no local view URLs (photos are listed without `url`). */
  viewSecret(): string | undefined;
  /** Direct uploads and pre-signed view URLs (AWS); absent locally. */
  s3?: S3PhotoPorts;
}

const extOf = (type: string) => type.slice('image/'.length);

function uploadUrl(event: HttpEvent, deps: PhotoDeps): Promise<HttpResult> | HttpResult {
  const parsed = parseUploadUrlRequest(parseBody(event, 4096));
  if (!parsed.ok) throw parsed.error;
  const { contentType, size } = parsed.value;
  const name = `${randomUUID()}.${extOf(contentType)}`;
  const storageKey = `${WEB_UPLOAD_PREFIX}${name}`;
  const answer = (url: string, method: 'PUT' | 'POST') =>
    json(200, {
      uploadUrl: url,
      method,
      headers: { 'content-type': contentType },
      storageKey,
      expiresIn: UPLOAD_URL_TTL,
    });
  if (deps.s3) {
    return deps.s3.uploads.presignPut(storageKey, contentType, size, UPLOAD_URL_TTL).then((u) => answer(u, 'PUT'));
  }
  return answer(`/api/uploads/photos?upload=${encodeURIComponent(name)}`, 'POST');
}

async function upload(event: HttpEvent, deps: PhotoDeps): Promise<HttpResult> {
  const name = event.queryStringParameters?.upload ?? '';
  if (!NAME.test(name))
    throw new CityLoopError('INVALID_REQUEST', 'upload is not a name handed out by upload-url', 400);
  const bytes = rawBody(event, UPLOAD_LIMIT);
  const contentType = sniffImageType(bytes);
  if (!contentType || contentType === 'image/heic') {
    throw new CityLoopError('UNSUPPORTED_MEDIA_TYPE', '只接受 JPEG、PNG、WebP 图片 only JPEG, PNG or WebP', 415);
  }
  if (!name.endsWith(`.${extOf(contentType)}`)) {
    throw new CityLoopError('UNSUPPORTED_MEDIA_TYPE', `图片类型与申请不符 the image is ${contentType}`, 415);
  }
  const storageKey = `${WEB_UPLOAD_PREFIX}${name}`;
  // A name is written once: a second upload under it (someone who learnt the name) is refused.
  if (await deps.blobs.get(storageKey)) {
    throw new CityLoopError('UPLOAD_EXISTS', '该上传已完成 this upload slot is used', 409);
  }
  await deps.blobs.put(storageKey, bytes, contentType);
  return json(201, { storageKey, contentType, size: bytes.length });
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * The attachments of a web submission's `photos` (`[{ storageKey, name? }]`), as storage holds them: refused when a
 * key was not handed out by upload-url (403 FOREIGN_UPLOAD), nothing is behind it (400 UPLOAD_MISSING), or it is not
 * an image within the limit (400 UPLOAD_INVALID). Undefined when there are none.
 */
export async function webPhotoAttachments(photos: unknown, deps: Pick<PhotoDeps, 'blobs' | 's3'>) {
  // The same test as `noPhotos` in ./requests.ts, which skips loading this module for such a submission.
  if (photos === undefined || photos === null || photos === '') return undefined;
  if (!Array.isArray(photos)) throw new CityLoopError('INVALID_REQUEST', 'photos must be a list', 400);
  if (photos.length > MAX_WEB_PHOTOS) {
    throw new CityLoopError('TOO_MANY_PHOTOS', `最多 ${MAX_WEB_PHOTOS} 张照片 at most ${MAX_WEB_PHOTOS} photos`, 400);
  }
  const out: Attachment[] = [];
  const seen = new Set<string>();
  for (const [i, p] of photos.entries()) {
    const key = str((p as Record<string, unknown> | null)?.storageKey) ?? '';
    if (!WEB_KEY.test(key)) {
      throw new CityLoopError('FOREIGN_UPLOAD', '照片不是通过本页面上传的 a photo was not uploaded here', 403);
    }
    if (seen.has(key)) continue;
    seen.add(key);
    const stored = await inspect(key, deps);
    if (!stored)
      throw new CityLoopError('UPLOAD_MISSING', `第 ${i + 1} 张照片未上传 photo ${i + 1} was not uploaded`, 400);
    const type = sniffImageType(stored.head);
    const ok =
      type !== undefined && (UPLOAD_TYPES as readonly string[]).includes(type) && key.endsWith(`.${extOf(type)}`);
    if (!ok || stored.size < 1 || stored.size > UPLOAD_LIMIT) {
      throw new CityLoopError(
        'UPLOAD_INVALID',
        `第 ${i + 1} 张照片不是有效图片 photo ${i + 1} is not a valid image`,
        400,
      );
    }
    const raw = str((p as Record<string, unknown>).name);
    const given = raw === undefined ? '' : cleanLine(raw).replace(/[\\/]/g, '').slice(0, 100);
    out.push({
      name: given || `photo-${i + 1}.${extOf(type as UploadType)}`,
      contentType: type as UploadType,
      size: stored.size,
      storageKey: key,
    });
  }
  return out.length ? out : undefined;
}

async function inspect(key: string, deps: Pick<PhotoDeps, 'blobs' | 's3'>) {
  if (deps.s3) return deps.s3.uploads.inspect(key);
  const bytes = await deps.blobs.get(key);
  return bytes ? { size: bytes.length, head: bytes.subarray(0, 32) } : undefined;
}

/** The signature of a local view URL: HMAC over the key and expiry, with a purpose of its own. */
export function viewSignature(secret: string, key: string, exp: number): string {
  return createHmac('sha256', secret).update(`cityloop-photo-view\n${key}\n${exp}`).digest('base64url');
}

async function viewUrlOf(key: string, deps: PhotoDeps): Promise<string | undefined> {
  if (!VIEWABLE.test(key) || key.includes('..')) return undefined;
  if (deps.s3) return deps.s3.viewUrl(key, VIEW_URL_TTL);
  const secret = deps.viewSecret();
  if (!secret) return undefined;
  const exp = Math.floor(deps.clock.now().getTime() / 1000) + VIEW_URL_TTL;
  const q = new URLSearchParams({ key, exp: String(exp), sig: viewSignature(secret, key, exp) });
  return `/api/uploads/view?${q}`;
}

const IMAGE = /^image\/(jpeg|png|webp|heic|gif)$/;

/** Every photo on the case, oldest first: each report's (the reporters the case lists) and each step's. */
export async function casePhotos(c: Case, deps: PhotoDeps): Promise<CasePhoto[]> {
  const out: CasePhoto[] = [];
  const reports = await Promise.all(c.reporters.map((r) => deps.reports.getReportByTrackingNo(r.trackingNo)));
  for (const r of reports) {
    for (const a of r?.request.attachments ?? []) {
      if (!IMAGE.test(a.contentType)) continue;
      out.push({ ...photoOf(a), source: 'report', trackingNo: r?.trackingNo, at: r?.acceptedAt ?? c.receivedAt });
    }
  }
  for (const h of c.history) {
    for (const a of (h as { attachments?: Attachment[] }).attachments ?? []) {
      if (!IMAGE.test(a.contentType)) continue;
      out.push({ ...photoOf(a), source: 'step', action: h.action, at: h.at });
    }
  }
  const keys = out.map((p) => (p as CasePhoto & { storageKey: string }).storageKey);
  const urls = await Promise.all(keys.map((k) => viewUrlOf(k, deps)));
  return out.map((p, i) => {
    const { storageKey: _key, ...rest } = p as CasePhoto & { storageKey: string };
    return { ...rest, ...(urls[i] ? { url: urls[i] } : {}) };
  });
}

const photoOf = (a: Attachment) => ({
  name: a.name,
  contentType: a.contentType,
  size: a.size,
  storageKey: a.storageKey,
});

async function listCasePhotos(event: HttpEvent, deps: PhotoDeps): Promise<HttpResult> {
  const actor = requireStaff(event, 'department', 'supervisor', 'agent');
  const c = await deps.cases.get(caseIdOf(event), actor);
  return json(200, { caseId: c.caseId, photos: await casePhotos(c, deps) });
}

async function view(event: HttpEvent, deps: PhotoDeps): Promise<HttpResult> {
  const q = event.queryStringParameters ?? {};
  const key = q.key ?? '';
  const exp = Number(q.exp);
  const secret = deps.viewSecret();
  const expected = secret && Number.isInteger(exp) ? viewSignature(secret, key, exp) : undefined;
  const given = Buffer.from(q.sig ?? '');
  const valid =
    expected !== undefined && given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
  if (!valid || !VIEWABLE.test(key)) {
    throw new CityLoopError('INVALID_SIGNATURE', '链接无效 the link is not valid', 403);
  }
  if (exp * 1000 < deps.clock.now().getTime())
    throw new CityLoopError('LINK_EXPIRED', '链接已过期 the link expired', 403);
  const bytes = await deps.blobs.get(key);
  if (!bytes) throw new CityLoopError('NOT_FOUND', 'no such photo', 404);
  const type = sniffImageType(bytes);
  if (!type) throw new CityLoopError('NOT_FOUND', 'no such photo', 404);
  return {
    statusCode: 200,
    headers: {
      'content-type': type,
      'cache-control': `private, max-age=${VIEW_URL_TTL}`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
    },
    isBase64Encoded: true,
    body: Buffer.from(bytes).toString('base64'),
  };
}

export async function handlePhotos(event: HttpEvent, deps: PhotoDeps): Promise<HttpResult> {
  const key = event.routeKey ?? '';
  if (key === PHOTO_ROUTES.uploadUrl) return uploadUrl(event, deps);
  if (key === PHOTO_ROUTES.upload) return upload(event, deps);
  if (key === PHOTO_ROUTES.casePhotos) return listCasePhotos(event, deps);
  if (key === PHOTO_ROUTES.view) return view(event, deps);
  throw new CityLoopError('NOT_FOUND', `no route ${key}`, 404);
}

let s3Ports: { bucket: string; ports: NonNullable<PhotoDeps['s3']> } | undefined;

/** Where photos are: S3 when `BLOB_BUCKET` is set (AWS), the local blob folder otherwise (`webPhotoAttachments`). */
export function photoStorage(): Pick<PhotoDeps, 'blobs' | 's3'> {
  const bucket = process.env.BLOB_BUCKET;
  // The S3 client, presigner and XML protocol load on the first photo call (most submissions carry none).
  if (bucket && s3Ports?.bucket !== bucket) s3Ports = { bucket, ports: lazyS3PhotoPorts(bucket) };
  return { blobs: getRuntime().blobs, ...(bucket && s3Ports ? { s3: s3Ports.ports } : {}) };
}

/** The photo ports of this container. */
export function runtimePhotoDeps(): PhotoDeps {
  const rt = getRuntime();
  return {
    ...photoStorage(),
    clock: rt.clock,
    reports: rt.store,
    cases: caseService(),
    viewSecret: citizenTokenSecret,
  };
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(httpErrors())
  .handler(async function webPhotosHandler(event) {
    const out = await handlePhotos(event, runtimePhotoDeps());
    if (event.routeKey === PHOTO_ROUTES.upload) log.info('web photo uploaded', { status: out.statusCode });
    return out;
  });
