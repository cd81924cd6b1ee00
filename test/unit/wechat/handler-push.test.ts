import { describe, expect, it } from 'vitest';
import { sha1Signature, WXBizMsgCrypt } from '#channels/wechat/crypto.ts';
import { MemoryNonceStore } from '#channels/wechat/nonce-store.ts';
import { createWechatPush } from '#channels/wechat/push.ts';
import { buildXml, parseXml, textField } from '#channels/wechat/xml.ts';
import type { Case } from '#core/case.ts';
import { CityLoopError } from '#core/errors.ts';
import { handlePush, type PushHandlerDeps } from '#functions/wechat/push.ts';
import { httpEvent, MemoryBlobs, MemoryReports } from './handler-fakes.ts';
import { appIdOf, vector } from './vectors.ts';

const V = vector('mp_official_python_sample_decrypt');
const TOKEN = V.token;
const KEY = V.encoding_aes_key ?? '';
const APP_ID = appIdOf(V);
const NOW = new Date('2023-11-15T06:00:00+08:00');
const TS = String(Math.floor(NOW.getTime() / 1000));
const OPENID = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs';
const crypt = new WXBizMsgCrypt({ token: TOKEN, encodingAesKey: KEY, appId: APP_ID });
const PATH = '/channels/wechat/push';

function setup() {
  const blobs = new MemoryBlobs();
  const reports = new MemoryReports();
  const push = createWechatPush(
    { token: TOKEN, encodingAesKey: KEY, appId: APP_ID },
    { now: () => NOW.getTime(), nonces: new MemoryNonceStore({ now: () => NOW.getTime() }) },
  );
  const deps: PushHandlerDeps = {
    push,
    clock: { now: () => NOW },
    blobs,
    store: reports,
    accept: reports.accept,
  };
  return { deps, blobs, reports };
}

function message(fields: Record<string, string | number>): string {
  return buildXml(
    Object.entries({ ToUserName: 'gh_10f6c3c3ac5a', FromUserName: OPENID, CreateTime: Number(TS), ...fields }),
  );
}

let nonceSeq = 1000;
function encryptedPost(inner: string) {
  const nonce = String(nonceSeq++);
  const enc = crypt.encrypt(inner);
  return httpEvent('POST', PATH, {
    query: {
      signature: sha1Signature([TOKEN, TS, nonce]),
      msg_signature: crypt.signature(TS, nonce, enc),
      timestamp: TS,
      nonce,
      encrypt_type: 'aes',
    },
    body: buildXml([
      ['ToUserName', 'gh_10f6c3c3ac5a'],
      ['Encrypt', enc],
    ]),
    headers: { 'content-type': 'text/xml' },
  });
}

function decryptReply(body: string | undefined) {
  const env = parseXml(body ?? '');
  return parseXml(crypt.decrypt(textField(env, 'Encrypt') ?? ''));
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

describe('Function: handlePush', () => {
  it('should echo the GET verification as text/plain', async () => {
    // Prepare
    const { deps } = setup();
    const event = httpEvent('GET', PATH, {
      query: { signature: sha1Signature([TOKEN, TS, '1']), timestamp: TS, nonce: '1', echostr: '8000000000' },
    });

    // Act
    const res = await handlePush(event, deps);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('8000000000');
    expect(res.headers?.['content-type']).toMatch(/^text\/plain/);
  });

  it('should accept an encrypted text push as a report, keep the raw body and reply encrypted with the tracking number', async () => {
    // Prepare
    const { deps, blobs, reports } = setup();
    const event = encryptedPost(message({ MsgType: 'text', Content: '六和路 路灯不亮', MsgId: '7000000000000000001' }));

    // Act
    const res = await handlePush(event, deps);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toMatch(/^application\/xml/);
    const reply = decryptReply(res.body);
    expect(reply).toMatchObject({ ToUserName: OPENID, FromUserName: 'gh_10f6c3c3ac5a', MsgType: 'text' });
    expect(reply.Content).toContain('20231115000001');
    expect(reports.reports).toHaveLength(1);
    const stored = reports.reports[0]?.request;
    expect(stored).toMatchObject({
      channel: 'wechat',
      channelMessageId: '7000000000000000001',
      citizen: { openid: OPENID },
      text: '六和路 路灯不亮',
      rawKey: 'raw/wechat/20231115/7000000000000000001.xml',
    });
    expect(blobs.text('raw/wechat/20231115/7000000000000000001.xml')).toBe(event.body);
  });

  it("should answer WeChat's retry of the same push with the same tracking number and no second report", async () => {
    // Prepare
    const { deps, reports } = setup();
    const event = encryptedPost(message({ MsgType: 'text', Content: '噪音', MsgId: '7000000000000000002' }));

    // Act
    const first = decryptReply((await handlePush(event, deps)).body);
    const retry = decryptReply((await handlePush(event, deps)).body);

    // Assess
    expect(reports.reports).toHaveLength(1);
    expect(retry.Content).toBe(first.Content);
  });

  it("should keep an image for the citizen's open report and say so", async () => {
    // Prepare
    const { deps, blobs } = setup();
    await handlePush(
      encryptedPost(message({ MsgType: 'text', Content: '井盖丢了', MsgId: '7000000000000000003' })),
      deps,
    );
    const image = message({
      MsgType: 'image',
      PicUrl: 'https://mmbiz.qpic.cn/x/0',
      MediaId: 'm1',
      MsgId: '7000000000000000004',
    });

    // Act
    const res = await handlePush(encryptedPost(image), deps);

    // Assess
    expect(decryptReply(res.body).Content).toBe('已收到补充材料，已附加到诉求 20231115000001。');
    const kept = JSON.parse(blobs.text('attachments/wechat/20231115000001/7000000000000000004.json') ?? '{}');
    expect(kept).toMatchObject({
      trackingNo: '20231115000001',
      openid: OPENID,
      attachment: { type: 'image', mediaId: 'm1', picUrl: 'https://mmbiz.qpic.cn/x/0' },
    });
  });

  it('should find the open case behind several short messages that were answered since', async () => {
    // Prepare: a real problem (its case still open), then six "谢谢" messages, each answered directly
    const { deps, blobs, reports } = setup();
    await handlePush(
      encryptedPost(message({ MsgType: 'text', Content: '小区门口井盖丢了', MsgId: '7000000000000000101' })),
      deps,
    );
    reports.cases.set('20231115000001', { caseId: '20231115000001', state: 'signed' } as Case);
    for (let i = 0; i < 6; i++) {
      await handlePush(
        encryptedPost(message({ MsgType: 'text', Content: '谢谢', MsgId: `700000000000000011${i}` })),
        deps,
      );
      const tn = `2023111500000${i + 2}`;
      reports.cases.set(tn, { caseId: tn, state: 'answered' } as Case);
    }
    const image = message({
      MsgType: 'image',
      PicUrl: 'https://mmbiz.qpic.cn/x/1',
      MediaId: 'm2',
      MsgId: '7000000000000000120',
    });

    // Act
    const res = await handlePush(encryptedPost(image), deps);

    // Assess
    expect(decryptReply(res.body).Content).toBe('已收到补充材料，已附加到诉求 20231115000001。');
    expect(blobs.text('attachments/wechat/20231115000001/7000000000000000120.json')).toBeDefined();
  });

  it('should keep a location as pending when the citizen has no open report', async () => {
    // Prepare
    const { deps, blobs, reports } = setup();
    await handlePush(
      encryptedPost(message({ MsgType: 'text', Content: '已解决的事', MsgId: '7000000000000000005' })),
      deps,
    );
    reports.cases.set('20231115000001', { state: 'closed' } as Case);
    const location = message({
      MsgType: 'location',
      Location_X: '22.708',
      Location_Y: '114.352',
      Scale: '15',
      Label: '坪山大道',
      MsgId: '7000000000000000006',
    });

    // Act
    const res = await handlePush(encryptedPost(location), deps);

    // Assess
    expect(decryptReply(res.body).Content).toBe('已收到补充材料，请发送文字描述您的诉求。');
    const pending = [...blobs.items.keys()].filter((k) => k.startsWith('attachments/wechat/pending/'));
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatch(/\/7000000000000000006\.json$/);
    expect(pending[0]).not.toContain(OPENID);
  });

  it('should acknowledge events with "success" so WeChat does not retry them', async () => {
    // Prepare
    const { deps, reports } = setup();

    // Act
    const res = await handlePush(encryptedPost(message({ MsgType: 'event', Event: 'subscribe' })), deps);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('success');
    expect(reports.reports).toHaveLength(0);
  });

  it('should throw the coded refusal for a bad signature (the middleware answers 401)', async () => {
    // Prepare
    const { deps } = setup();
    const event = encryptedPost(message({ MsgType: 'text', Content: 'x', MsgId: '1' }));
    event.queryStringParameters = { ...event.queryStringParameters, msg_signature: '0'.repeat(40) };

    // Act
    const e = await rejection(handlePush(event, deps));

    // Assess
    expect(e.code).toBe('INVALID_SIGNATURE');
    expect(e.status).toBe(401);
  });

  it('should refuse an oversized body with BODY_TOO_LARGE', async () => {
    // Prepare
    const { deps } = setup();
    const event = httpEvent('POST', PATH, { query: { timestamp: TS, nonce: '1' }, body: 'x'.repeat(70_000) });

    // Act
    const e = await rejection(handlePush(event, deps));

    // Assess
    expect(e.code).toBe('BODY_TOO_LARGE');
  });

  it('should refuse other methods with METHOD_NOT_ALLOWED', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    const e = await rejection(handlePush(httpEvent('PUT', PATH), deps));

    // Assess
    expect(e.status).toBe(405);
  });
});
