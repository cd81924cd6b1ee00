import { describe, expect, it } from 'vitest';
import { type Code2SessionPort, code2SessionError } from '#channels/wechat/code2session.ts';
import { CityLoopError } from '#core/errors.ts';
import { citizenKey } from '#core/privacy.ts';
import { handleMiniProgram, type MiniProgramDeps } from '#functions/wechat/miniprogram.ts';
import { httpEvent, MemoryBlobs, MemoryReports } from './handler-fakes.ts';

const NOW = new Date('2025-03-01T09:30:00+08:00');
const BASE = '/channels/wechat/miniprogram';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);

/** code2Session as a table, like the fake server: the handler logic is tested without HTTP. */
const port: Code2SessionPort = {
  async exchange(code) {
    const table: Record<string, string> = { 'code-a': 'oCitizenA', 'code-b': 'oCitizenB' };
    const openid = table[code];
    if (!openid) throw code2SessionError(40029);
    return { openid };
  },
};

function setup() {
  const blobs = new MemoryBlobs();
  const reports = new MemoryReports();
  const deps: MiniProgramDeps = {
    clock: { now: () => NOW },
    blobs,
    store: reports,
    accept: reports.accept,
    code2Session: port,
    session: { secret: 'unit-test-session-secret-0123456789', ttlSeconds: 3600, now: () => NOW.getTime() },
  };
  return { deps, blobs, reports };
}

const jsonHeaders = (token?: string) => ({
  'content-type': 'application/json',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
});

async function login(deps: MiniProgramDeps, code: string): Promise<string> {
  const res = await handleMiniProgram(
    httpEvent('POST', `${BASE}/login`, { body: JSON.stringify({ code }), headers: jsonHeaders() }),
    deps,
  );
  return JSON.parse(res.body ?? '{}').token;
}

async function upload(deps: MiniProgramDeps, token: string, bytes: Buffer) {
  const res = await handleMiniProgram(
    httpEvent('POST', `${BASE}/photos`, {
      body: bytes,
      headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${token}` },
    }),
    deps,
  );
  return { status: res.statusCode, json: JSON.parse(res.body ?? '{}') };
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

describe('Function: handleMiniProgram', () => {
  it('should log in with a wx.login code and issue a session token', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    const res = await handleMiniProgram(
      httpEvent('POST', `${BASE}/login`, { body: '{"code":"code-a"}', headers: jsonHeaders() }),
      deps,
    );

    // Assess
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body ?? '{}');
    expect(body.token).toMatch(/^wx1\./);
    expect(body.expiresIn).toBe(3600);
    expect(body.expiresAt).toBe('2025-03-01T10:30:00.000+08:00');
    expect(res.body).not.toContain('oCitizenA');
  });

  it('should refuse an unknown code with the code2Session error', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    const e = await rejection(
      handleMiniProgram(httpEvent('POST', `${BASE}/login`, { body: '{"code":"nope"}', headers: jsonHeaders() }), deps),
    );

    // Assess
    expect(e.code).toBe('INVALID_LOGIN_CODE');
  });

  it('should list mine 20 at a time, newest first, with the cursor of the next page', async () => {
    // Prepare: 25 requests (a citizen who chats files many)
    const { deps } = setup();
    const token = await login(deps, 'code-a');
    for (let i = 1; i <= 25; i++) {
      const body = { clientRequestId: `req-${String(i).padStart(7, '0')}`, text: `第${i}条 小区门口井盖缺失` };
      await handleMiniProgram(
        httpEvent('POST', `${BASE}/submit`, { body: JSON.stringify(body), headers: jsonHeaders(token) }),
        deps,
      );
    }
    const page = async (cursor?: string) =>
      JSON.parse(
        (
          await handleMiniProgram(
            httpEvent('GET', `${BASE}/mine`, { headers: jsonHeaders(token), ...(cursor ? { query: { cursor } } : {}) }),
            deps,
          )
        ).body ?? '{}',
      );

    // Act
    const first = await page();
    const second = await page(first.next);
    const forged = await rejection(
      handleMiniProgram(
        httpEvent('GET', `${BASE}/mine`, { headers: jsonHeaders(token), query: { cursor: 'e30' } }),
        deps,
      ),
    );

    // Assess
    const tns = (p: { requests: { trackingNo: string }[] }) => p.requests.map((r) => r.trackingNo);
    expect(tns(first)).toEqual(Array.from({ length: 20 }, (_, i) => `20231115${String(25 - i).padStart(6, '0')}`));
    expect(tns(second)).toEqual(Array.from({ length: 5 }, (_, i) => `20231115${String(5 - i).padStart(6, '0')}`));
    expect(typeof first.next).toBe('string');
    expect(second.next).toBeUndefined();
    expect(forged.code).toBe('BAD_CURSOR');
  });

  it('should take a photo, a submission and list it under mine (login → photos → submit → mine)', async () => {
    // Prepare
    const { deps, reports } = setup();
    const token = await login(deps, 'code-a');
    const photo = await upload(deps, token, JPEG);
    const body = {
      clientRequestId: 'req-0000001',
      text: '小区门口 井盖缺失',
      photos: [{ storageKey: photo.json.storageKey, contentType: 'image/png', size: 999 }],
      location: { latitude: 22.7081, longitude: 114.3523, type: 'gcj02' },
    };

    // Act
    const submitted = await handleMiniProgram(
      httpEvent('POST', `${BASE}/submit`, { body: JSON.stringify(body), headers: jsonHeaders(token) }),
      deps,
    );
    const mine = await handleMiniProgram(httpEvent('GET', `${BASE}/mine`, { headers: jsonHeaders(token) }), deps);

    // Assess
    expect(photo.status).toBe(201);
    expect(photo.json).toMatchObject({ contentType: 'image/jpeg', size: JPEG.length });
    expect(photo.json.storageKey).toMatch(
      new RegExp(`^uploads/wechat/${citizenKey({ openid: 'oCitizenA' })}/[0-9a-f-]{36}\\.jpeg$`),
    );
    expect(submitted.statusCode).toBe(202);
    const tn = JSON.parse(submitted.body ?? '{}').trackingNo;
    expect(tn).toBe('20231115000001');
    const request = reports.reports[0]?.request;
    expect(request).toMatchObject({
      channel: 'wechat',
      channelMessageId: 'mp:oCitizenA:req-0000001',
      citizen: { openid: 'oCitizenA' },
      location: { lat: 22.7081, lon: 114.3523, datum: 'GCJ02' },
      // Type and size as stored, not as the client claimed.
      attachments: [{ contentType: 'image/jpeg', size: JPEG.length, storageKey: photo.json.storageKey }],
    });
    expect(request?.rawKey).toMatch(/^raw\/wechat\/20250301\/mp-.+-req-0000001\.json$/);
    const listed = JSON.parse(mine.body ?? '{}').requests;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ trackingNo: tn, status: 'received', statusLabel: '已受理', channel: 'wechat' });
  });

  it('should answer the same submission again with the same tracking number', async () => {
    // Prepare
    const { deps, reports } = setup();
    const token = await login(deps, 'code-a');
    const event = () =>
      httpEvent('POST', `${BASE}/submit`, {
        body: JSON.stringify({ clientRequestId: 'req-0000002', text: '路灯' }),
        headers: jsonHeaders(token),
      });

    // Act
    const a = JSON.parse((await handleMiniProgram(event(), deps)).body ?? '{}');
    const b = JSON.parse((await handleMiniProgram(event(), deps)).body ?? '{}');

    // Assess
    expect(b).toMatchObject({ trackingNo: a.trackingNo, duplicate: true });
    expect(reports.reports).toHaveLength(1);
  });

  it("should not let a citizen attach another citizen's photo or see their requests", async () => {
    // Prepare
    const { deps } = setup();
    const a = await login(deps, 'code-a');
    const b = await login(deps, 'code-b');
    const photoOfA = (await upload(deps, a, JPEG)).json.storageKey;
    await handleMiniProgram(
      httpEvent('POST', `${BASE}/submit`, {
        body: '{"clientRequestId":"req-a-000001","text":"A 的诉求"}',
        headers: jsonHeaders(a),
      }),
      deps,
    );

    // Act
    const e = await rejection(
      handleMiniProgram(
        httpEvent('POST', `${BASE}/submit`, {
          body: JSON.stringify({
            clientRequestId: 'req-b-000001',
            text: 'B',
            photos: [{ storageKey: photoOfA, contentType: 'image/jpeg', size: 1 }],
          }),
          headers: jsonHeaders(b),
        }),
        deps,
      ),
    );
    const mineOfB = JSON.parse(
      (await handleMiniProgram(httpEvent('GET', `${BASE}/mine`, { headers: jsonHeaders(b) }), deps)).body ?? '{}',
    );

    // Assess
    expect(e.code).toBe('FOREIGN_UPLOAD');
    expect(e.status).toBe(403);
    expect(mineOfB.requests).toEqual([]);
  });

  it('should refuse a photo that is not an image with UNSUPPORTED_MEDIA_TYPE (415)', async () => {
    // Prepare
    const { deps } = setup();
    const token = await login(deps, 'code-a');

    // Act
    const e = await rejection(upload(deps, token, Buffer.from('<html><script>alert(1)</script>')));

    // Assess
    expect(e.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(e.status).toBe(415);
  });

  it.each([
    ['no token', undefined],
    ['a forged token', 'wx1.eyJzdWIiOiJvWCJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('should refuse mine with %s as INVALID_SESSION (401)', async (_what, token) => {
    // Prepare
    const { deps } = setup();

    // Act
    const e = await rejection(
      handleMiniProgram(httpEvent('GET', `${BASE}/mine`, { headers: jsonHeaders(token) }), deps),
    );

    // Assess
    expect(e.code).toBe('INVALID_SESSION');
    expect(e.status).toBe(401);
  });

  it('should refuse an invalid submission with INVALID_REQUEST', async () => {
    // Prepare
    const { deps } = setup();
    const token = await login(deps, 'code-a');

    // Act
    const e = await rejection(
      handleMiniProgram(
        httpEvent('POST', `${BASE}/submit`, { body: '{"clientRequestId":"x","text":""}', headers: jsonHeaders(token) }),
        deps,
      ),
    );

    // Assess
    expect(e.code).toBe('INVALID_REQUEST');
  });

  it('should refuse unknown actions and wrong methods', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    const unknown = await rejection(handleMiniProgram(httpEvent('GET', `${BASE}/constructor`), deps));
    const wrong = await rejection(handleMiniProgram(httpEvent('GET', `${BASE}/login`), deps));

    // Assess
    expect(unknown.status).toBe(404);
    expect(wrong.status).toBe(405);
  });
});
