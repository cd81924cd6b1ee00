import { beforeEach, describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import { CityLoopError } from '#core/errors.ts';
import type { BlobStore, StoredReport } from '#core/ports.ts';
import {
  handlePhotos,
  MAX_WEB_PHOTOS,
  PHOTO_ROUTES,
  type PhotoDeps,
  viewSignature,
  webPhotoAttachments,
} from '#functions/http/photos.ts';
import type { HttpEvent } from '#functions/lib/http.ts';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70]);
const SECRET = 'test-secret';

class MemoryBlobs implements BlobStore {
  readonly items = new Map<string, Uint8Array>();
  async put(key: string, body: Uint8Array) {
    this.items.set(key, body);
  }
  async get(key: string) {
    return this.items.get(key);
  }
}

function event(
  routeKey: string,
  opts: {
    body?: Uint8Array | unknown;
    query?: Record<string, string>;
    who?: Record<string, string>;
    caseId?: string;
  } = {},
): HttpEvent {
  const [method, path] = routeKey.split(' ') as [string, string];
  const binary = opts.body instanceof Uint8Array;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: opts.body !== undefined && !binary ? { 'content-type': 'application/json' } : {},
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    ...(opts.caseId ? { pathParameters: { caseId: opts.caseId } } : {}),
    requestContext: {
      http: { method, path },
      ...(opts.who ? { authorizer: { jwt: { claims: opts.who, scopes: [] } } } : {}),
    } as unknown as HttpEvent['requestContext'],
    isBase64Encoded: binary,
    ...(opts.body !== undefined
      ? { body: binary ? Buffer.from(opts.body as Uint8Array).toString('base64') : JSON.stringify(opts.body) }
      : {}),
  };
}

const CLERK = { sub: 'c1', 'cognito:username': 'c1', 'cognito:groups': '[dept-chengguan]' };
const OTHER_CLERK = { sub: 'c2', 'cognito:username': 'c2', 'cognito:groups': '[dept-zhujian]' };

async function outcome(p: Promise<{ statusCode?: number; body?: string; headers?: unknown }>) {
  try {
    const r = await p;
    return {
      status: r.statusCode ?? 0,
      json: r.body && /json/.test(JSON.stringify(r.headers)) ? JSON.parse(r.body) : undefined,
      raw: r,
    };
  } catch (e) {
    if (e instanceof CityLoopError) return { status: e.status, json: { error: { code: e.code } }, raw: undefined };
    throw e;
  }
}

describe('Handler: web photos (upload slot, upload, case photos, view)', () => {
  let blobs: MemoryBlobs;
  let deps: PhotoDeps;
  let theCase: Case;
  const reports = new Map<string, StoredReport>();
  const now = { value: new Date('2025-11-28T02:00:00Z') };

  beforeEach(() => {
    blobs = new MemoryBlobs();
    reports.clear();
    theCase = {
      caseId: '20251128000001',
      trackingNo: '20251128000001',
      department: 'chengguan',
      reporters: [
        { trackingNo: '20251128000001', channel: 'web', receivedAt: '2025-11-28T10:00:00+08:00', relation: 'new' },
      ],
      history: [],
      receivedAt: '2025-11-28T10:00:00+08:00',
      citizen: { phone: '+8613800138000' },
    } as unknown as Case;
    deps = {
      clock: { now: () => now.value },
      blobs,
      reports: { getReportByTrackingNo: async (tn) => reports.get(tn) },
      cases: {
        get: async (id, actor) => {
          if (id !== theCase.caseId || (actor.role === 'department' && actor.department !== theCase.department)) {
            throw new CityLoopError('NOT_FOUND', 'no such case', 404);
          }
          return theCase;
        },
      },
      viewSecret: () => SECRET,
    };
  });

  async function uploaded(bytes: Uint8Array, contentType: string): Promise<string> {
    const slot = await outcome(
      handlePhotos(event(PHOTO_ROUTES.uploadUrl, { body: { contentType, size: bytes.length } }), deps),
    );
    const url = new URL(slot.json.uploadUrl, 'http://x');
    const put = await outcome(
      handlePhotos(event(PHOTO_ROUTES.upload, { body: bytes, query: Object.fromEntries(url.searchParams) }), deps),
    );
    expect(put.status).toBe(201);
    return slot.json.storageKey;
  }

  it('should hand out a slot under the web prefix and take only the image type it was asked for', async () => {
    // Act
    const slot = await outcome(
      handlePhotos(event(PHOTO_ROUTES.uploadUrl, { body: { contentType: 'image/png', size: 16 } }), deps),
    );
    const name = new URL(slot.json.uploadUrl, 'http://x').searchParams.get('upload') as string;
    const wrong = await outcome(
      handlePhotos(event(PHOTO_ROUTES.upload, { body: JPEG, query: { upload: name } }), deps),
    );
    const notImage = await outcome(
      handlePhotos(
        event(PHOTO_ROUTES.upload, { body: new TextEncoder().encode('<svg onload=x>'), query: { upload: name } }),
        deps,
      ),
    );
    const right = await outcome(handlePhotos(event(PHOTO_ROUTES.upload, { body: PNG, query: { upload: name } }), deps));
    const again = await outcome(handlePhotos(event(PHOTO_ROUTES.upload, { body: PNG, query: { upload: name } }), deps));
    // Assess
    expect(slot.json).toMatchObject({ method: 'POST', headers: { 'content-type': 'image/png' }, expiresIn: 300 });
    expect(slot.json.storageKey).toMatch(/^attachments\/web\/upload\/[0-9a-f-]{36}\.png$/);
    expect(wrong.status).toBe(415);
    expect(notImage.status).toBe(415);
    expect(right).toMatchObject({
      status: 201,
      json: { storageKey: slot.json.storageKey, contentType: 'image/png', size: 16 },
    });
    expect(again).toMatchObject({ status: 409, json: { error: { code: 'UPLOAD_EXISTS' } } });
  });

  it('should refuse a slot for another type or a size over the limit', async () => {
    // Act
    const gif = await outcome(
      handlePhotos(event(PHOTO_ROUTES.uploadUrl, { body: { contentType: 'image/gif', size: 10 } }), deps),
    );
    const big = await outcome(
      handlePhotos(event(PHOTO_ROUTES.uploadUrl, { body: { contentType: 'image/jpeg', size: 5 * 1024 * 1024 } }), deps),
    );
    // Assess
    expect(gif.status).toBe(400);
    expect(big.status).toBe(400);
  });

  it('should turn uploaded photos into attachments as storage holds them', async () => {
    // Prepare
    const key = await uploaded(PNG, 'image/png');
    // Act
    const out = await webPhotoAttachments(
      [{ storageKey: key, name: '../路灯.png', contentType: 'image/jpeg', size: 1 }],
      deps,
    );
    // Assess
    expect(out).toEqual([{ name: '..路灯.png', contentType: 'image/png', size: PNG.length, storageKey: key }]);
    expect(await webPhotoAttachments(undefined, deps)).toBeUndefined();
  });

  it('should refuse keys not handed out here, missing uploads, non-images and too many photos', async () => {
    // Prepare
    const missing = 'attachments/web/upload/0f8c3a52-5d7b-4d0e-9c1a-2b3c4d5e6f70.png';
    const bad = 'attachments/web/upload/1f8c3a52-5d7b-4d0e-9c1a-2b3c4d5e6f70.png';
    blobs.items.set(bad, new TextEncoder().encode('not an image at all'));
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'none',
        (e: CityLoopError) => e.code,
      );
    // Act & Assess
    expect(await code(webPhotoAttachments([{ storageKey: 'raw/web/x.png' }], deps))).toBe('FOREIGN_UPLOAD');
    expect(await code(webPhotoAttachments([{ storageKey: 'uploads/wechat/abc/x.png' }], deps))).toBe('FOREIGN_UPLOAD');
    expect(await code(webPhotoAttachments([{ storageKey: missing }], deps))).toBe('UPLOAD_MISSING');
    expect(await code(webPhotoAttachments([{ storageKey: bad }], deps))).toBe('UPLOAD_INVALID');
    const many = Array.from({ length: MAX_WEB_PHOTOS + 1 }, () => ({ storageKey: missing }));
    expect(await code(webPhotoAttachments(many, deps))).toBe('TOO_MANY_PHOTOS');
    expect(await code(webPhotoAttachments('x', deps))).toBe('INVALID_REQUEST');
  });

  it('should list the photos of a case for its department with view links that serve the image', async () => {
    // Prepare
    const key = await uploaded(PNG, 'image/png');
    reports.set('20251128000001', {
      trackingNo: '20251128000001',
      idemKey: 'web#key:1',
      acceptedAt: '2025-11-28T10:00:00+08:00',
      request: { attachments: [{ name: 'a.png', contentType: 'image/png', size: PNG.length, storageKey: key }] },
    } as unknown as StoredReport);
    // Act
    const list = await outcome(
      handlePhotos(event(PHOTO_ROUTES.casePhotos, { who: CLERK, caseId: theCase.caseId }), deps),
    );
    const url = new URL(list.json.photos[0].url, 'http://x');
    const served = await outcome(
      handlePhotos(event(PHOTO_ROUTES.view, { query: Object.fromEntries(url.searchParams) }), deps),
    );
    // Assess
    expect(list.json.photos).toEqual([
      expect.objectContaining({
        name: 'a.png',
        contentType: 'image/png',
        source: 'report',
        trackingNo: '20251128000001',
      }),
    ]);
    expect(JSON.stringify(list.json)).not.toContain('storageKey');
    expect(served.status).toBe(200);
    expect(served.raw?.headers).toMatchObject({ 'content-type': 'image/png', 'x-content-type-options': 'nosniff' });
    expect(Buffer.from(served.raw?.body ?? '', 'base64')).toEqual(Buffer.from(PNG));
  });

  it('should hide another department’s case and refuse anonymous callers', async () => {
    // Act
    const other = await outcome(
      handlePhotos(event(PHOTO_ROUTES.casePhotos, { who: OTHER_CLERK, caseId: theCase.caseId }), deps),
    );
    const anonymous = await outcome(handlePhotos(event(PHOTO_ROUTES.casePhotos, { caseId: theCase.caseId }), deps));
    // Assess
    expect(other.status).toBe(404);
    expect(anonymous.status).toBe(401);
  });

  it('should refuse a forged, altered or expired view link and raw input keys', async () => {
    // Prepare
    const key = await uploaded(PNG, 'image/png');
    const exp = Math.floor(now.value.getTime() / 1000) + 600;
    const view = (q: Record<string, string>) => outcome(handlePhotos(event(PHOTO_ROUTES.view, { query: q }), deps));
    // Act
    const forged = await view({ key, exp: String(exp), sig: 'AAAA' });
    const otherKey = await view({
      key: 'raw/web/x.json',
      exp: String(exp),
      sig: viewSignature(SECRET, 'raw/web/x.json', exp),
    });
    const expired = await view({ key, exp: String(exp - 3600), sig: viewSignature(SECRET, key, exp - 3600) });
    const good = await view({ key, exp: String(exp), sig: viewSignature(SECRET, key, exp) });
    // Assess
    expect(forged.status).toBe(403);
    expect(otherKey.status).toBe(403);
    expect(expired).toMatchObject({ status: 403, json: { error: { code: 'LINK_EXPIRED' } } });
    expect(good.status).toBe(200);
  });
});
