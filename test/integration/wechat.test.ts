import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha1Signature, WXBizMsgCrypt } from '#channels/wechat/crypto.ts';
import { buildXml, parseXml, textField } from '#channels/wechat/xml.ts';
import { getRuntime } from '#functions/lib/runtime.ts';
import { LOCAL_WECHAT_DEFAULTS, start as startFakeWechatService } from '#local/fake-wechat/service.ts';
import type { LocalService, LocalStack } from '#local/stack.ts';
import { eventually, http, startTestStack } from '../helpers/local-stack.ts';
import { appIdOf, vector } from '../unit/wechat/vectors.ts';

/** The shared vector's keys are the local stack's defaults: a push built with them must go through. */
const V = vector('mp_official_python_sample_decrypt');
const crypt = new WXBizMsgCrypt({ token: V.token, encodingAesKey: V.encoding_aes_key ?? '', appId: appIdOf(V) });
const OPENID = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs';
const PUSH = '/channels/wechat/push';
const MP = '/channels/wechat/miniprogram';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00]);

function signedPush(content: string, msgId: string, fields?: [string, string | number][]) {
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = String(randomInt(1, 2 ** 31));
  const inner = buildXml([
    ['ToUserName', 'gh_10f6c3c3ac5a'],
    ['FromUserName', OPENID],
    ['CreateTime', Number(ts)],
    ...(fields ?? [['MsgType', 'text'] as [string, string], ['Content', content] as [string, string]]),
    ['MsgId', msgId],
  ]);
  const enc = crypt.encrypt(inner);
  const query = new URLSearchParams({
    signature: sha1Signature([V.token, ts, nonce]),
    timestamp: ts,
    nonce,
    encrypt_type: 'aes',
    msg_signature: crypt.signature(ts, nonce, enc),
  });
  const body = buildXml([
    ['ToUserName', 'gh_10f6c3c3ac5a'],
    ['Encrypt', enc],
  ]);
  return { path: `${PUSH}?${query}`, body };
}

describe('Local stack: WeChat channel', () => {
  let stack: LocalStack;
  let cleanup: () => Promise<void>;
  let ownService: LocalService | undefined;

  beforeAll(async () => {
    ({ stack, cleanup } = await startTestStack());
    // The stack starts services from local/services/; start the fake here when it is not registered there.
    if (!stack.info.services['fake-wechat']) {
      ownService = await startFakeWechatService({ stack, options: {}, log: () => undefined });
    }
  });
  afterAll(async () => {
    await ownService?.stop();
    await cleanup?.();
  });

  it('should answer the GET URL check with the echostr', async () => {
    // Prepare
    const ts = String(Math.floor(Date.now() / 1000));
    const q = new URLSearchParams({
      signature: sha1Signature([V.token, ts, '77']),
      timestamp: ts,
      nonce: '77',
      echostr: '1234567',
    });

    // Act
    const res = await http(stack, 'GET', `${PUSH}?${q}`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.text).toBe('1234567');
  });

  it('should turn an encrypted push into a report and reply, encrypted, with its tracking number', async () => {
    // Prepare
    const push = signedPush('坪山大道与龙兴路交叉口 红绿灯不亮', '8100000000000000001');

    // Act
    const res = await http(stack, 'POST', push.path, push.body, { 'content-type': 'text/xml' });
    const retry = await http(stack, 'POST', push.path, push.body, { 'content-type': 'text/xml' });

    // Assess: the reply decrypts with the vector's keys and names the tracking number.
    expect(res.status).toBe(200);
    const envelope = parseXml(res.text);
    const reply = parseXml(crypt.decrypt(textField(envelope, 'Encrypt') ?? ''));
    expect(reply.ToUserName).toBe(OPENID);
    const tn = /(\d{14})/.exec(String(reply.Content))?.[1] ?? '';
    expect(tn).toMatch(/^\d{14}$/);
    // WeChat's retry of the same push is the same report.
    expect(parseXml(crypt.decrypt(textField(parseXml(retry.text), 'Encrypt') ?? '')).Content).toBe(reply.Content);
    const status = await http(stack, 'GET', `/api/requests/${tn}`);
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({
      trackingNo: tn,
      channel: 'wechat',
      title: '坪山大道与龙兴路交叉口 红绿灯不亮',
    });
  });

  it('should put a photo or voice message on the citizen’s open case as a 市民补充 the department sees', async () => {
    // Prepare: the citizen's report from the text push above is open.
    const text = signedPush('龙田街道兰竹路路面塌陷了', '8100000000000000010');
    const first = await http(stack, 'POST', text.path, text.body, { 'content-type': 'text/xml' });
    expect(first.status).toBe(200);
    const opened = /(\d{14})/.exec(
      String(parseXml(crypt.decrypt(textField(parseXml(first.text), 'Encrypt') ?? '')).Content),
    )?.[1];
    await eventually(async () => (await http(stack, 'GET', `/api/requests/${opened}`)).json?.department);
    const voice = signedPush('', '8100000000000000011', [
      ['MsgType', 'voice'],
      ['MediaId', 'media-voice-001'],
      ['Format', 'amr'],
      ['Recognition', '塌陷的坑越来越大了'],
    ]);

    // Act
    const res = await http(stack, 'POST', voice.path, voice.body, { 'content-type': 'text/xml' });

    // Assess: the reply names a case, and that case's trace has the update.
    expect(res.status).toBe(200);
    const reply = parseXml(crypt.decrypt(textField(parseXml(res.text), 'Encrypt') ?? ''));
    const tn = /(\d{14})/.exec(String(reply.Content))?.[1] ?? '';
    expect(tn).toBe(opened);
    const c = await eventually(async () => {
      const got = await getRuntime().store.getCase(tn);
      return got?.history.some((h) => h.action === 'citizenUpdate') ? got : undefined;
    });
    const entry = c.history.find((h) => h.action === 'citizenUpdate');
    expect(entry?.text).toBe('【微信语音】塌陷的坑越来越大了');
    expect(entry?.attachments?.[0]?.storageKey).toMatch(/^attachments\/wechat\//);
  });

  it.each([
    [
      'a wrong msg_signature',
      (p: { path: string; body: string }) => ({
        ...p,
        path: p.path.replace(/msg_signature=[0-9a-f]{40}/, `msg_signature=${'0'.repeat(40)}`),
      }),
      401,
      'INVALID_SIGNATURE',
    ],
    [
      'a DOCTYPE',
      (p: { path: string; body: string }) => ({
        ...p,
        body: `<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>${p.body}`,
      }),
      400,
      'XML_DOCTYPE_FORBIDDEN',
    ],
    [
      'a plain push while 安全模式 is on',
      (p: { path: string; body: string }) => ({
        ...p,
        path: p.path.replace(/&encrypt_type=aes&msg_signature=[0-9a-f]{40}/, ''),
      }),
      400,
      'ENCRYPTION_REQUIRED',
    ],
  ])('should refuse %s with a coded 4xx', async (_what, change, status, code) => {
    // Prepare
    const push = change(signedPush('x', '8100000000000000002'));

    // Act
    const res = await http(stack, 'POST', push.path, push.body, { 'content-type': 'text/xml' });

    // Assess
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
  });

  it('should run the mini-program flow against the fake WeChat server (login → photo → submit → mine)', async () => {
    // Act: login
    const login = await http(stack, 'POST', `${MP}/login`, { code: 'test-code-001' });
    expect(login.status).toBe(200);
    const auth = { authorization: `Bearer ${login.json.token}` };

    // Act: photo upload (raw bytes, as wx.request with an ArrayBuffer sends them)
    const uploaded = await fetch(`${stack.info.url}${MP}/photos`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', ...auth },
      body: JPEG,
    });
    const photo = (await uploaded.json()) as { storageKey: string; contentType: string; size: number };
    expect(uploaded.status).toBe(201);

    // Act: submit with the photo and a GCJ-02 location
    const submitted = await http(
      stack,
      'POST',
      `${MP}/submit`,
      {
        clientRequestId: 'it-mp-000001',
        text: '六和社区 垃圾桶满溢，气味很大',
        photos: [photo],
        location: { latitude: 22.7081, longitude: 114.3523, type: 'gcj02' },
      },
      auth,
    );
    expect(submitted.status).toBe(202);
    const tn = submitted.json.trackingNo as string;

    // Assess: mine lists it with its status.
    const mine = await http(stack, 'GET', `${MP}/mine`, undefined, auth);
    expect(mine.status).toBe(200);
    const row = mine.json.requests.find((r: { trackingNo: string }) => r.trackingNo === tn);
    expect(row).toMatchObject({ trackingNo: tn, channel: 'wechat', title: '六和社区 垃圾桶满溢，气味很大' });
    expect(typeof row.statusLabel).toBe('string');
    expect(LOCAL_WECHAT_DEFAULTS.WECHAT_MP_APP_ID).toBe(process.env.WECHAT_MP_APP_ID);
  });

  it.each([
    ['an unknown code', 'no-such-code', 401, 'INVALID_LOGIN_CODE'],
    ['WeChat busy', 'busy-code', 503, 'WECHAT_BUSY'],
  ])('should answer a login with %s as WeChat would', async (_what, code, status, errorCode) => {
    // Act
    const res = await http(stack, 'POST', `${MP}/login`, { code });

    // Assess
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(errorCode);
  });

  it('should refuse mine without a session', async () => {
    // Act
    const res = await http(stack, 'GET', `${MP}/mine`);

    // Assess
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('INVALID_SESSION');
  });
});
