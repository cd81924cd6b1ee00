import { GetObjectCommand, HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { type Code2SessionPort, code2SessionError } from '#channels/wechat/code2session.ts';
import { CityLoopError } from '#core/errors.ts';
import { citizenKey } from '#core/privacy.ts';
import { handleMiniProgram, type MiniProgramDeps } from '#functions/wechat/miniprogram.ts';
import { S3PhotoUploads } from '#functions/wechat/s3-uploads.ts';
import { httpEvent, MemoryBlobs, MemoryReports } from './handler-fakes.ts';

const NOW = new Date('2025-03-01T09:30:00+08:00');
const BASE = '/channels/wechat/miniprogram';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
const CK_A = citizenKey({ openid: 'oCitizenA' });

const port: Code2SessionPort = {
  async exchange(code) {
    const openid = ({ 'code-a': 'oCitizenA', 'code-b': 'oCitizenB' } as Record<string, string>)[code];
    if (!openid) throw code2SessionError(40029);
    return { openid };
  },
};

const signer = new S3Client({
  region: 'cn-north-1',
  credentials: { accessKeyId: 'AKIAUNITTEST', secretAccessKey: 'unit-test-secret' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
});
const s3 = new S3Client({ region: 'cn-north-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const s3Mock = mockClient(s3);

afterEach(() => {
  s3Mock.reset();
});

function setup(aws: boolean) {
  const blobs = new MemoryBlobs();
  const reports = new MemoryReports();
  const deps: MiniProgramDeps = {
    clock: { now: () => NOW },
    blobs,
    store: reports,
    accept: reports.accept,
    code2Session: port,
    session: { secret: 'unit-test-session-secret-0123456789', ttlSeconds: 3600, now: () => NOW.getTime() },
    ...(aws ? { uploads: new S3PhotoUploads(s3, 'cityloop-blobs', signer) } : {}),
  };
  return { deps, blobs, reports };
}

const headers = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });

async function login(deps: MiniProgramDeps, code: string): Promise<string> {
  const res = await handleMiniProgram(
    httpEvent('POST', `${BASE}/login`, {
      body: JSON.stringify({ code }),
      headers: { 'content-type': 'application/json' },
    }),
    deps,
  );
  return JSON.parse(res.body ?? '{}').token;
}

async function uploadUrl(deps: MiniProgramDeps, token: string, body: unknown, extra: Record<string, string> = {}) {
  const res = await handleMiniProgram(
    httpEvent('POST', `${BASE}/photos/upload-url`, {
      body: JSON.stringify(body),
      headers: { ...headers(token), ...extra },
    }),
    deps,
  );
  return { status: res.statusCode, json: JSON.parse(res.body ?? '{}') };
}

function submit(deps: MiniProgramDeps, token: string, storageKey: string, id = 'req-up-000001') {
  return handleMiniProgram(
    httpEvent('POST', `${BASE}/submit`, {
      body: JSON.stringify({
        clientRequestId: id,
        text: '人行道 井盖缺失',
        photos: [{ storageKey, contentType: 'image/jpeg', size: 1 }],
      }),
      headers: headers(token),
    }),
    deps,
  );
}

async function rejection(p: Promise<unknown>): Promise<CityLoopError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CityLoopError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** The part of the SDK's streaming body the adapter reads. */
const body = (bytes: Buffer) => ({ transformToByteArray: async () => new Uint8Array(bytes) }) as never;

describe('Function: handleMiniProgram photos/upload-url', () => {
  it('should hand out a pre-signed PUT URL under the citizen prefix on AWS', async () => {
    // Prepare
    const { deps } = setup(true);
    const token = await login(deps, 'code-a');

    // Act
    const res = await uploadUrl(deps, token, { contentType: 'image/jpeg', size: 123_456 });

    // Assess
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ method: 'PUT', headers: { 'content-type': 'image/jpeg' }, expiresIn: 300 });
    expect(res.json.storageKey).toMatch(new RegExp(`^attachments/wechat/upload/${CK_A}/[0-9a-f-]{36}\\.jpeg$`));
    const url = new URL(res.json.uploadUrl);
    expect(url.protocol).toBe('https:');
    expect(decodeURIComponent(url.pathname)).toContain(res.json.storageKey);
    expect(url.hostname).toContain('cityloop-blobs');
    const q = url.searchParams;
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(q.get('X-Amz-Expires')).toBe('300');
    expect(q.get('X-Amz-Credential')).toMatch(/^AKIAUNITTEST\/\d{8}\/cn-north-1\/s3\/aws4_request$/);
    expect(q.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['content-length', 'content-type', 'host']);
    expect([...q.keys()].some((k) => k.toLowerCase().startsWith('x-amz-checksum'))).toBe(false);
  });

  it('should refuse a type or size it cannot take', async () => {
    // Prepare
    const { deps } = setup(true);
    const token = await login(deps, 'code-a');

    // Act
    const bad = await Promise.all(
      [
        { contentType: 'image/gif', size: 10 },
        { contentType: 'image/jpeg', size: 4 * 1024 * 1024 + 1 },
        { contentType: 'image/png', size: 0 },
      ].map((b) => rejection(uploadUrl(deps, token, b))),
    );
    const noSession = await rejection(
      handleMiniProgram(
        httpEvent('POST', `${BASE}/photos/upload-url`, { body: '{"contentType":"image/png","size":1}' }),
        deps,
      ),
    );

    // Assess
    expect(bad.map((e) => e.code)).toEqual(['INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST']);
    expect(noSession.status).toBe(401);
  });

  it('should accept an uploaded photo after checking it with HeadObject', async () => {
    // Prepare
    const { deps, reports } = setup(true);
    const token = await login(deps, 'code-a');
    const { storageKey } = (await uploadUrl(deps, token, { contentType: 'image/jpeg', size: 2048 })).json;
    s3Mock
      .on(HeadObjectCommand, { Key: storageKey })
      .resolves({ ContentLength: 2048, ContentType: 'image/jpeg', ETag: '"e"' });
    s3Mock.on(GetObjectCommand, { Key: storageKey, Range: 'bytes=0-31' }).resolves({ Body: body(JPEG) });

    // Act
    const res = await submit(deps, token, storageKey);

    // Assess
    expect(res.statusCode).toBe(202);
    expect(s3Mock.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'cityloop-blobs',
      Key: storageKey,
    });
    expect(reports.reports[0]?.request.attachments).toEqual([
      { name: 'photo-1.jpeg', contentType: 'image/jpeg', size: 2048, storageKey },
    ]);
  });

  it('should refuse a key that was handed out but never uploaded with UPLOAD_MISSING (400)', async () => {
    // Prepare
    const { deps, reports } = setup(true);
    const token = await login(deps, 'code-a');
    const { storageKey } = (await uploadUrl(deps, token, { contentType: 'image/jpeg', size: 2048 })).json;
    s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }));

    // Act
    const e = await rejection(submit(deps, token, storageKey));

    // Assess
    expect(e.code).toBe('UPLOAD_MISSING');
    expect(e.status).toBe(400);
    expect(reports.reports).toHaveLength(0);
  });

  it('should refuse an upload whose bytes are not the image type it was signed for', async () => {
    // Prepare
    const { deps } = setup(true);
    const token = await login(deps, 'code-a');
    const { storageKey } = (await uploadUrl(deps, token, { contentType: 'image/jpeg', size: 12 })).json;
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 12, ContentType: 'image/jpeg' });
    s3Mock.on(GetObjectCommand).resolves({ Body: body(PNG) });

    // Act
    const e = await rejection(submit(deps, token, storageKey));

    // Assess
    expect(e.code).toBe('UPLOAD_INVALID');
  });

  it("should refuse another citizen's upload with FOREIGN_UPLOAD (403) without looking it up", async () => {
    // Prepare
    const { deps } = setup(true);
    const a = await login(deps, 'code-a');
    const b = await login(deps, 'code-b');
    const keyOfA = (await uploadUrl(deps, a, { contentType: 'image/jpeg', size: 12 })).json.storageKey;

    // Act
    const e = await rejection(submit(deps, b, keyOfA));

    // Assess
    expect(e.code).toBe('FOREIGN_UPLOAD');
    expect(e.status).toBe(403);
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  it('should refuse a pre-signed key locally, where none is ever handed out', async () => {
    // Prepare
    const { deps } = setup(false);
    const token = await login(deps, 'code-a');

    // Act
    const e = await rejection(submit(deps, token, `attachments/wechat/upload/${CK_A}/x.jpeg`));

    // Assess
    expect(e.code).toBe('UPLOAD_MISSING');
  });
});

describe('Function: handleMiniProgram photos/upload-url (local)', () => {
  it('should hand out the photos route (POST) and store the upload under the key it named', async () => {
    // Prepare
    const { deps, blobs, reports } = setup(false);
    const token = await login(deps, 'code-a');
    const issued = await uploadUrl(
      deps,
      token,
      { contentType: 'image/jpeg', size: JPEG.length },
      { host: '127.0.0.1:8787' },
    );
    const url = new URL(issued.json.uploadUrl);

    // Act
    const uploaded = await handleMiniProgram(
      httpEvent('POST', url.pathname, {
        query: Object.fromEntries(url.searchParams),
        body: JPEG,
        headers: { ...issued.json.headers, authorization: `Bearer ${token}` },
      }),
      deps,
    );
    const submitted = await submit(deps, token, issued.json.storageKey);

    // Assess
    expect(issued.json).toMatchObject({ method: 'POST', headers: { 'content-type': 'image/jpeg' }, expiresIn: 300 });
    expect(url.origin).toBe('http://127.0.0.1:8787');
    expect(url.pathname).toBe(`${BASE}/photos`);
    expect(issued.json.storageKey).toMatch(new RegExp(`^uploads/wechat/${CK_A}/[0-9a-f-]{36}\\.jpeg$`));
    expect(uploaded.statusCode).toBe(201);
    expect(JSON.parse(uploaded.body ?? '{}').storageKey).toBe(issued.json.storageKey);
    expect(blobs.items.has(issued.json.storageKey)).toBe(true);
    expect(submitted.statusCode).toBe(202);
    expect(reports.reports[0]?.request.attachments?.[0]).toMatchObject({
      storageKey: issued.json.storageKey,
      size: JPEG.length,
    });
  });

  it('should refuse bytes of another type than the name handed out, and names it did not hand out', async () => {
    // Prepare
    const { deps } = setup(false);
    const token = await login(deps, 'code-a');
    const issued = await uploadUrl(deps, token, { contentType: 'image/png', size: JPEG.length });
    const url = new URL(issued.json.uploadUrl, 'http://x');
    const post = (upload: string) =>
      handleMiniProgram(
        httpEvent('POST', url.pathname, {
          query: { upload },
          body: JPEG,
          headers: { 'content-type': 'image/png', authorization: `Bearer ${token}` },
        }),
        deps,
      );

    // Act
    const mismatch = await rejection(post(url.searchParams.get('upload') ?? ''));
    const traversal = await rejection(post('../../raw/x.jpeg'));

    // Assess
    expect(mismatch.status).toBe(415);
    expect(traversal.code).toBe('INVALID_REQUEST');
  });
});
