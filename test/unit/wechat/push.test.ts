import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveAesKey, sha1Signature, WXBizMsgCrypt } from '#channels/wechat/crypto.ts';
import { MemoryNonceStore } from '#channels/wechat/nonce-store.ts';
import {
  attachmentReplyText,
  createTimeToIso,
  createWechatPush,
  type NonceStore,
  type PushMessage,
  type PushRequest,
  titleFromText,
  trackingReplyText,
  type WechatPushConfig,
} from '#channels/wechat/push.ts';
import type { Result } from '#channels/wechat/result.ts';
import { buildXml, parseXml, textField } from '#channels/wechat/xml.ts';
import { appIdOf, encryptOf, type Vector, vector } from './vectors.ts';

const MP = vector('mp_official_python_sample_decrypt');
const WECOM_MSG = vector('wechatpy_work_decrypt_message');
const WECOM_URL = vector('wechatpy_work_check_signature');
const SIMPLE = vector('callback_url_signature_simple');

const TOKEN = MP.token;
const KEY = MP.encoding_aes_key ?? '';
const APP_ID = appIdOf(MP);
const TS = '1700000000';
const NOW = Number(TS) * 1000;
const OPENID = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs';

function setup(config: Partial<WechatPushConfig> = {}, now = NOW, nonces?: NonceStore) {
  const store = nonces ?? new MemoryNonceStore({ now: () => now });
  const push = createWechatPush(
    { token: TOKEN, encodingAesKey: KEY, appId: APP_ID, ...config },
    { now: () => now, nonces: store, random: () => Buffer.from('0123456789abcdef') },
  );
  return { push, store };
}

function fromVector(v: Vector, config: Partial<WechatPushConfig> = {}) {
  const now = Number(v.query?.timestamp ?? v.timestamp) * 1000;
  return createWechatPush(
    { token: v.token, encodingAesKey: v.encoding_aes_key, appId: appIdOf(v), ...config },
    { now: () => now, nonces: new MemoryNonceStore({ now: () => now }) },
  );
}

function message(fields: Record<string, string | number>): string {
  return buildXml(Object.entries(fields));
}

const TEXT = {
  ToUserName: 'gh_10f6c3c3ac5a',
  FromUserName: OPENID,
  CreateTime: 1700000000,
  MsgType: 'text',
  Content: '坪山大道 路灯不亮\n已经三天了',
  MsgId: '24100000000000001',
};

function plainRequest(body: string, ts = TS, nonce = '1234567'): PushRequest {
  return { query: { signature: sha1Signature([TOKEN, ts, nonce]), timestamp: ts, nonce }, body };
}

const crypt = new WXBizMsgCrypt({ token: TOKEN, encodingAesKey: KEY, appId: APP_ID });

function safeRequestFor(encrypt: string, ts = TS, nonce = '7654321'): PushRequest {
  return {
    query: { msg_signature: crypt.signature(ts, nonce, encrypt), timestamp: ts, nonce, encrypt_type: 'aes' },
    body: message({ ToUserName: 'gh_10f6c3c3ac5a', Encrypt: encrypt }),
  };
}

const safeRequest = (inner: string, ts = TS, nonce = '7654321') => safeRequestFor(crypt.encrypt(inner), ts, nonce);

function errorCode<T>(r: Result<T>): string {
  if (r.ok) throw new Error('expected a rejection');
  expect(r.error.status).toBeGreaterThanOrEqual(400);
  expect(r.error.status).toBeLessThan(500);
  return r.error.code;
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`unexpected ${r.error.code}: ${r.error.message}`);
  return r.value;
}

function textOf(m: PushMessage) {
  if (m.kind !== 'text') throw new Error(`expected text, got ${m.kind}`);
  return m;
}

function attachmentOf(m: PushMessage) {
  if (m.kind !== 'attachment') throw new Error(`expected attachment, got ${m.kind}`);
  return m.update.attachment;
}

describe('Class: WechatPush.verifyUrl', () => {
  it('should echo echostr for a plain signature (公众号/小程序)', async () => {
    // Prepare
    const push = fromVector(SIMPLE, { encodingAesKey: undefined, appId: 'wx0000000000000001' });
    const query = {
      signature: String(SIMPLE.expected.signature),
      timestamp: '456',
      nonce: '123',
      echostr: '9876543210',
    };

    // Act
    const r = await push.verifyUrl(query);

    // Assess
    expect(value(r)).toBe('9876543210');
  });

  it('should decrypt the echostr of a WeCom URL check (vector)', async () => {
    // Prepare
    const push = fromVector(WECOM_URL);

    // Act
    const r = await push.verifyUrl(WECOM_URL.query ?? {});

    // Assess
    expect(value(r)).toBe(WECOM_URL.expected.echo_plaintext);
  });

  it('should restore + turned into spaces in a WeCom echostr', async () => {
    // Prepare
    const push = fromVector(WECOM_URL);
    const q = WECOM_URL.query ?? {};
    expect(q.echostr).toContain('+');

    // Act
    const r = await push.verifyUrl({ ...q, echostr: (q.echostr ?? '').replaceAll('+', ' ') });

    // Assess
    expect(value(r)).toBe(WECOM_URL.expected.echo_plaintext);
  });

  it('should refuse the vector negative case with INVALID_SIGNATURE', async () => {
    // Prepare
    const push = fromVector(WECOM_URL);

    // Act
    const r = await push.verifyUrl({ ...WECOM_URL.query, nonce: WECOM_URL.negative_case?.nonce });

    // Assess
    expect(errorCode(r)).toBe('INVALID_SIGNATURE');
  });

  it('should refuse a wrong plain signature with INVALID_SIGNATURE (401)', async () => {
    // Prepare
    const push = fromVector(SIMPLE, { encodingAesKey: undefined, appId: 'wx0000000000000001' });

    // Act
    const r = await push.verifyUrl({ signature: 'f'.repeat(40), timestamp: '456', nonce: '123', echostr: '1' });

    // Assess
    expect(errorCode(r)).toBe('INVALID_SIGNATURE');
    expect(r.ok ? 0 : r.error.status).toBe(401);
  });

  it('should refuse a WeCom check when no key is configured with SAFE_MODE_NOT_CONFIGURED', async () => {
    // Prepare
    const push = fromVector(WECOM_URL, { encodingAesKey: undefined });

    // Act
    const r = await push.verifyUrl(WECOM_URL.query ?? {});

    // Assess
    expect(errorCode(r)).toBe('SAFE_MODE_NOT_CONFIGURED');
  });

  it.each([
    ['no echostr', { timestamp: TS, nonce: '1', signature: 'x' }, 'MISSING_PARAMETER'],
    ['no timestamp', { nonce: '1', signature: 'x', echostr: '1' }, 'MISSING_PARAMETER'],
    ['no signature', { timestamp: TS, nonce: '1', echostr: '1' }, 'MISSING_PARAMETER'],
    ['a timestamp with letters', { timestamp: '17e8', nonce: '1', signature: 'x', echostr: '1' }, 'INVALID_PARAMETER'],
    ['a nonce with markup', { timestamp: TS, nonce: ']]><x>', signature: 'x', echostr: '1' }, 'INVALID_PARAMETER'],
    ['an echostr with markup', { timestamp: TS, nonce: '1', signature: 'x', echostr: '<script>' }, 'INVALID_PARAMETER'],
  ])('should refuse %s', async (_what, query, code) => {
    // Prepare
    const { push } = setup();

    // Act
    const r = await push.verifyUrl(query);

    // Assess
    expect(errorCode(r)).toBe(code);
  });

  it('should refuse a timestamp more than 5 minutes off with STALE_TIMESTAMP, and accept one at the edge', async () => {
    // Prepare
    const query = (ts: string) => ({
      signature: sha1Signature([TOKEN, ts, '1']),
      timestamp: ts,
      nonce: '1',
      echostr: 'e',
    });
    const { push } = setup();

    // Act
    const late = await push.verifyUrl(query(String(Number(TS) - 301)));
    const early = await push.verifyUrl(query(String(Number(TS) + 301)));
    const edge = await push.verifyUrl(query(String(Number(TS) - 300)));

    // Assess
    expect(errorCode(late)).toBe('STALE_TIMESTAMP');
    expect(errorCode(early)).toBe('STALE_TIMESTAMP');
    expect(value(edge)).toBe('e');
  });

  it('should refuse a captured signature reused with another echostr with NONCE_REUSED', async () => {
    // Prepare: a plain signature does not cover echostr, so only the nonce store stops this.
    const { push } = setup();
    const query = { signature: sha1Signature([TOKEN, TS, '42']), timestamp: TS, nonce: '42', echostr: 'e' };

    // Act
    const first = await push.verifyUrl(query);
    const retry = await push.verifyUrl(query);
    const reused = await push.verifyUrl({ ...query, echostr: 'attacker' });

    // Assess
    expect(value(first)).toBe('e');
    expect(value(retry)).toBe('e');
    expect(errorCode(reused)).toBe('NONCE_REUSED');
  });
});

describe('Class: WechatPush.parse (safe mode)', () => {
  it('should verify, decrypt and map the official sample (compatible mode) to an intake request', async () => {
    // Prepare
    const push = fromVector(MP);

    // Act
    const m = textOf(value(await push.parse({ query: MP.query ?? {}, body: MP.post_body ?? '' })));

    // Assess
    expect(m.intake).toEqual({
      channel: 'wechat',
      channelMessageId: '6054768590064713728',
      receivedAt: '2014-09-03T17:14:28.000+08:00',
      citizen: { openid: OPENID },
      title: 'abcdteT',
      text: 'abcdteT',
    });
    expect(m.reply).toEqual({ toUser: OPENID, fromUser: 'gh_10f6c3c3ac5a', encrypted: true, nonce: '1320562132' });
  });

  it('should trust only the encrypted part, not the plaintext fields beside it', async () => {
    // Prepare: the msg_signature covers Encrypt only, so the clear fields can be changed without breaking it.
    const push = fromVector(MP);
    const forged = (MP.post_body ?? '').replace('abcdteT', '伪造内容').replace(OPENID, 'oATTACKER');

    // Act
    const m = textOf(value(await push.parse({ query: MP.query ?? {}, body: forged })));

    // Assess
    expect(m.intake.text).toBe('abcdteT');
    expect(m.intake.citizen.openid).toBe(OPENID);
  });

  it('should map the WeCom vector, keeping the AgentID for the reply', async () => {
    // Prepare
    const push = fromVector(WECOM_MSG);

    // Act
    const m = textOf(value(await push.parse({ query: WECOM_MSG.query ?? {}, body: WECOM_MSG.post_body ?? '' })));

    // Assess
    expect(m.intake.channelMessageId).toBe('4363689963896700987');
    expect(m.intake.citizen.openid).toBe('messense');
    expect(m.intake.receivedAt).toBe('2014-09-24T10:31:43.000+08:00');
    expect(m.intake.text).toBe('test');
    expect(m.reply.agentId).toBe('1');
    expect(m.reply.fromUser).toBe('wx49f0ab532d5d035a');
  });

  it('should refuse a changed ciphertext with INVALID_SIGNATURE', async () => {
    // Prepare
    const push = fromVector(WECOM_MSG);
    const enc = encryptOf(WECOM_MSG);
    const body = (WECOM_MSG.post_body ?? '').replace(enc, `${enc.slice(0, 10)}B${enc.slice(11)}`);

    // Act
    const r = await push.parse({ query: WECOM_MSG.query ?? {}, body });

    // Assess
    expect(errorCode(r)).toBe('INVALID_SIGNATURE');
  });

  it('should refuse the vector under another appid with APPID_MISMATCH', async () => {
    // Prepare
    const push = fromVector(WECOM_MSG, { appId: 'wwffffffffffffffff' });

    // Act
    const r = await push.parse({ query: WECOM_MSG.query ?? {}, body: WECOM_MSG.post_body ?? '' });

    // Assess
    expect(errorCode(r)).toBe('APPID_MISMATCH');
  });

  it('should refuse signed ciphertext with broken padding with BAD_PADDING', async () => {
    // Prepare: 32 bytes whose last byte (0) is no PKCS#7 count, encrypted with the right key and signed.
    const key = deriveAesKey(KEY);
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    const enc = Buffer.concat([cipher.update(Buffer.alloc(32, 0)), cipher.final()]).toString('base64');
    const { push } = setup();

    // Act
    const r = await push.parse(safeRequestFor(enc));

    // Assess
    expect(errorCode(r)).toBe('BAD_PADDING');
  });

  it('should refuse a DOCTYPE inside the decrypted message with XML_DOCTYPE_FORBIDDEN', async () => {
    // Prepare
    const { push } = setup();
    const inner = `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${message(TEXT)}`;

    // Act
    const r = await push.parse(safeRequest(inner));

    // Assess
    expect(errorCode(r)).toBe('XML_DOCTYPE_FORBIDDEN');
  });

  it('should refuse a DOCTYPE in the outer envelope with XML_DOCTYPE_FORBIDDEN', async () => {
    // Prepare
    const { push } = setup();
    const req = safeRequest(message(TEXT));

    // Act
    const r = await push.parse({ ...req, body: `<!DOCTYPE xml>${req.body}` });

    // Assess
    expect(errorCode(r)).toBe('XML_DOCTYPE_FORBIDDEN');
  });

  it('should refuse an envelope without Encrypt with MISSING_FIELD', async () => {
    // Prepare
    const { push } = setup();

    // Act
    const r = await push.parse({ query: { ...safeRequest('<xml/>').query }, body: message({ ToUserName: 'gh' }) });

    // Assess
    expect(errorCode(r)).toBe('MISSING_FIELD');
  });

  it('should refuse an oversized body with BODY_TOO_LARGE before any crypto', async () => {
    // Prepare
    const { push } = setup({ maxBodyBytes: 1024 });
    const req = safeRequest(message({ ...TEXT, Content: '长'.repeat(400) }));

    // Act
    const r = await push.parse(req);

    // Assess
    expect(errorCode(r)).toBe('BODY_TOO_LARGE');
    expect(r.ok ? 0 : r.error.status).toBe(413);
  });

  it("should accept WeChat's identical retry of a push as the same message", async () => {
    // Prepare
    const { push } = setup();
    const req = safeRequest(message(TEXT));

    // Act
    const first = await push.parse(req);
    const retry = await push.parse(req);

    // Assess
    expect(textOf(value(first)).intake.channelMessageId).toBe(TEXT.MsgId);
    expect(textOf(value(retry)).intake).toEqual(textOf(value(first)).intake);
  });

  it('should refuse another message under a used (timestamp, nonce) with NONCE_REUSED (409)', async () => {
    // Prepare
    const { push } = setup();
    const first = safeRequest(message(TEXT), TS, '555');
    const other = safeRequest(message({ ...TEXT, MsgId: '24100000000000002' }), TS, '555');

    // Act
    const a = await push.parse(first);
    const b = await push.parse(other);

    // Assess
    expect(value(a).kind).toBe('text');
    expect(errorCode(b)).toBe('NONCE_REUSED');
    expect(b.ok ? 0 : b.error.status).toBe(409);
  });

  it('should not record the nonce of a refused request', async () => {
    // Prepare
    const { push, store } = setup();
    const good = safeRequest(message(TEXT));
    const bad = { ...good, query: { ...good.query, msg_signature: '0'.repeat(40) } };

    // Act
    const refused = await push.parse(bad);
    const accepted = await push.parse(good);

    // Assess
    expect(errorCode(refused)).toBe('INVALID_SIGNATURE');
    expect(value(accepted).kind).toBe('text');
    expect((store as MemoryNonceStore).size).toBe(1);
  });

  it('should refuse a stale push with STALE_TIMESTAMP', async () => {
    // Prepare
    const { push } = setup();
    const old = String(Number(TS) - 3600);

    // Act
    const r = await push.parse(safeRequest(message(TEXT), old));

    // Assess
    expect(errorCode(r)).toBe('STALE_TIMESTAMP');
  });

  it('should refuse a plain push when a key is configured with ENCRYPTION_REQUIRED', async () => {
    // Prepare
    const { push } = setup();

    // Act
    const r = await push.parse(plainRequest(message(TEXT)));

    // Assess
    expect(errorCode(r)).toBe('ENCRYPTION_REQUIRED');
  });

  it('should pass infrastructure failures of the nonce store through as exceptions', async () => {
    // Prepare
    const failing: NonceStore = {
      seen: () => Promise.reject(new Error('table unavailable')),
    };
    const { push } = setup({}, NOW, failing);

    // Act
    const attempt = push.parse(safeRequest(message(TEXT)));

    // Assess
    await expect(attempt).rejects.toThrow('table unavailable');
  });
});

describe('Class: WechatPush.parse (plain mode)', () => {
  const plain = () => setup({ encodingAesKey: undefined }).push;

  it('should verify the signature and map a text message', async () => {
    // Act
    const m = textOf(value(await plain().parse(plainRequest(message(TEXT)))));

    // Assess
    expect(m.intake).toEqual({
      channel: 'wechat',
      channelMessageId: '24100000000000001',
      receivedAt: '2023-11-15T06:13:20.000+08:00',
      citizen: { openid: OPENID },
      title: '坪山大道 路灯不亮',
      text: '坪山大道 路灯不亮\n已经三天了',
    });
    expect(m.reply.encrypted).toBe(false);
  });

  it('should accept plain pushes beside a key when allowPlain is set (明文/兼容模式)', async () => {
    // Prepare
    const { push } = setup({ allowPlain: true });

    // Act
    const r = await push.parse(plainRequest(message(TEXT)));

    // Assess
    expect(value(r).kind).toBe('text');
  });

  it('should map an image to an attachment update', async () => {
    // Prepare
    const body = message({
      ...TEXT,
      MsgType: 'image',
      Content: '',
      PicUrl: 'https://mmbiz.qpic.cn/mmbiz_jpg/abc/0',
      MediaId: 'media-1',
    });

    // Act
    const m = value(await plain().parse(plainRequest(body)));

    // Assess
    expect(m.kind === 'attachment' && m.update).toEqual({
      channel: 'wechat',
      channelMessageId: TEXT.MsgId,
      openid: OPENID,
      receivedAt: '2023-11-15T06:13:20.000+08:00',
      attachment: { type: 'image', picUrl: 'https://mmbiz.qpic.cn/mmbiz_jpg/abc/0', mediaId: 'media-1' },
    });
  });

  it('should map a voice note with its recognition text', async () => {
    // Prepare
    const body = message({ ...TEXT, MsgType: 'voice', MediaId: 'v-1', Format: 'amr', Recognition: '井盖丢了' });

    // Act
    const a = attachmentOf(value(await plain().parse(plainRequest(body))));

    // Assess
    expect(a).toEqual({ type: 'voice', mediaId: 'v-1', format: 'amr', recognition: '井盖丢了' });
  });

  it('should map a voice note without recognition', async () => {
    // Prepare
    const body = message({ ...TEXT, MsgType: 'voice', MediaId: 'v-2', Format: 'speex' });

    // Act
    const a = attachmentOf(value(await plain().parse(plainRequest(body))));

    // Assess
    expect(a).toEqual({ type: 'voice', mediaId: 'v-2', format: 'speex' });
  });

  it('should map a location as GCJ-02 with its label', async () => {
    // Prepare
    const body = message({
      ...TEXT,
      MsgType: 'location',
      Location_X: '22.708',
      Location_Y: '114.352',
      Scale: '15',
      Label: '深圳市坪山区坪山大道',
    });

    // Act
    const a = attachmentOf(value(await plain().parse(plainRequest(body))));

    // Assess
    expect(a).toEqual({
      type: 'location',
      location: { lat: 22.708, lon: 114.352, datum: 'GCJ02', address: '深圳市坪山区坪山大道' },
      scale: 15,
    });
  });

  it.each([
    ['a subscribe event', { ...TEXT, MsgType: 'event', Event: 'subscribe' }, 'UNSUPPORTED_MESSAGE'],
    ['a video', { ...TEXT, MsgType: 'video', MediaId: 'm' }, 'UNSUPPORTED_MESSAGE'],
    ['no MsgType', { FromUserName: OPENID }, 'MISSING_FIELD'],
    ['no MsgId', { ...TEXT, MsgId: '' }, 'MISSING_FIELD'],
    ['no Content', { ...TEXT, Content: '  ' }, 'MISSING_FIELD'],
    ['no FromUserName', { ...TEXT, FromUserName: '' }, 'MISSING_FIELD'],
    ['a MsgId with markup', { ...TEXT, MsgId: '1<2' }, 'INVALID_MESSAGE'],
    ['a CreateTime with letters', { ...TEXT, CreateTime: 'yesterday' }, 'INVALID_MESSAGE'],
    ['a text longer than the intake limit', { ...TEXT, Content: '长'.repeat(4001) }, 'INVALID_MESSAGE'],
    ['an openid too long', { ...TEXT, FromUserName: 'o'.repeat(129) }, 'INVALID_MESSAGE'],
    [
      'a location off the globe',
      { ...TEXT, MsgType: 'location', Location_X: '95.1', Location_Y: '114.3', Scale: '1', Label: '' },
      'INVALID_MESSAGE',
    ],
    [
      'a location that is not a number',
      { ...TEXT, MsgType: 'location', Location_X: 'NaN', Location_Y: '114.3', Scale: '1', Label: '' },
      'INVALID_MESSAGE',
    ],
  ])('should refuse %s', async (_what, fields, code) => {
    // Act
    const r = await plain().parse(plainRequest(message(fields)));

    // Assess
    expect(errorCode(r)).toBe(code);
  });

  it.each([
    ['garbage', 'not xml at all', 'MALFORMED_XML'],
    ['a DOCTYPE', `<!DOCTYPE xml [<!ENTITY a "b">]>${message(TEXT)}`, 'XML_DOCTYPE_FORBIDDEN'],
    ['an oversized body', `<xml><A>${'x'.repeat(70_000)}</A></xml>`, 'BODY_TOO_LARGE'],
  ])('should refuse %s in the body', async (_what, body, code) => {
    // Act
    const r = await plain().parse(plainRequest(body));

    // Assess
    expect(errorCode(r)).toBe(code);
  });

  it('should refuse a captured plain signature reused with a forged body with NONCE_REUSED', async () => {
    // Prepare: in plain mode the signature covers token, timestamp and nonce only, not the body.
    const push = plain();
    const genuine = plainRequest(message(TEXT), TS, '999');
    const forged = { ...genuine, body: message({ ...TEXT, MsgId: '1', Content: '伪造' }) };

    // Act
    const a = await push.parse(genuine);
    const b = await push.parse(forged);

    // Assess
    expect(value(a).kind).toBe('text');
    expect(errorCode(b)).toBe('NONCE_REUSED');
  });

  it('should refuse a body signed for another timestamp with INVALID_SIGNATURE', async () => {
    // Prepare
    const req = plainRequest(message(TEXT));

    // Act
    const r = await plain().parse({ ...req, query: { ...req.query, timestamp: String(Number(TS) + 1) } });

    // Assess
    expect(errorCode(r)).toBe('INVALID_SIGNATURE');
  });
});

describe('Class: WechatPush.reply', () => {
  it('should answer a plain push with a plain text message', async () => {
    // Prepare
    const { push } = setup({ encodingAesKey: undefined });
    const m = value(await push.parse(plainRequest(message(TEXT))));

    // Act
    const xml = push.reply(m.reply, trackingReplyText('PS20231115-000123'));

    // Assess
    expect(parseXml(xml)).toEqual({
      ToUserName: OPENID,
      FromUserName: 'gh_10f6c3c3ac5a',
      CreateTime: TS,
      MsgType: 'text',
      Content: '您的诉求已受理，受理编号：PS20231115-000123。我们将尽快办理，可凭受理编号查询办理进度。',
    });
  });

  it('should answer the official sample with an encrypted reply that decrypts to the tracking number', async () => {
    // Prepare
    const push = fromVector(MP);
    const m = value(await push.parse({ query: MP.query ?? {}, body: MP.post_body ?? '' }));

    // Act
    const xml = push.reply(m.reply, trackingReplyText('PS20140903-000001'));

    // Assess
    const env = parseXml(xml);
    const enc = textField(env, 'Encrypt') ?? '';
    expect(textField(env, 'Nonce')).toBe(MP.query?.nonce);
    expect(textField(env, 'TimeStamp')).toBe(MP.query?.timestamp);
    expect(textField(env, 'MsgSignature')).toBe(
      sha1Signature([MP.token, textField(env, 'TimeStamp') ?? '', textField(env, 'Nonce') ?? '', enc]),
    );
    const inner = parseXml(new WXBizMsgCrypt({ token: MP.token, encodingAesKey: KEY, appId: APP_ID }).decrypt(enc));
    expect(inner.ToUserName).toBe(OPENID);
    expect(inner.FromUserName).toBe('gh_10f6c3c3ac5a');
    expect(inner.Content).toContain('PS20140903-000001');
  });

  it('should echo the AgentID in a WeCom reply', async () => {
    // Prepare
    const push = fromVector(WECOM_MSG);
    const m = value(await push.parse({ query: WECOM_MSG.query ?? {}, body: WECOM_MSG.post_body ?? '' }));

    // Act
    const env = parseXml(push.reply(m.reply, attachmentReplyText('WX-1')));
    const c = new WXBizMsgCrypt({
      token: WECOM_MSG.token,
      encodingAesKey: WECOM_MSG.encoding_aes_key ?? '',
      appId: appIdOf(WECOM_MSG),
    });
    const inner = parseXml(c.decrypt(textField(env, 'Encrypt') ?? ''));

    // Assess
    expect(inner.AgentID).toBe('1');
    expect(inner.ToUserName).toBe('messense');
    expect(inner.Content).toBe('已收到补充材料，已附加到诉求 WX-1。');
  });
});

describe('Function: titleFromText', () => {
  it('should take the first non-empty line, at most 20 characters', () => {
    // Assess
    expect(titleFromText('\n  路灯坏了  \n详情')).toBe('路灯坏了');
    expect(titleFromText('一二三四五六七八九十一二三四五六七八九十一')).toBe(
      '一二三四五六七八九十一二三四五六七八九十…',
    );
    expect(titleFromText('😀'.repeat(21))).toBe(`${'😀'.repeat(20)}…`);
  });
});

describe('Function: createTimeToIso', () => {
  it('should render China Standard Time across midnight UTC', () => {
    // Assess
    expect(createTimeToIso('1409735668')).toBe('2014-09-03T17:14:28.000+08:00');
    expect(createTimeToIso('1735660800')).toBe('2025-01-01T00:00:00.000+08:00');
  });
});

describe('Function: createWechatPush', () => {
  it('should refuse a configuration without token or appid', () => {
    // Assess
    const deps = { now: () => NOW, nonces: new MemoryNonceStore({ now: () => NOW }) };
    expect(() => createWechatPush({ token: '', appId: 'x' }, deps)).toThrow('WECHAT_TOKEN');
    expect(() => createWechatPush({ token: 't', appId: 'x', encodingAesKey: 'short' }, deps)).toThrow('EncodingAESKey');
  });
});

describe('Class: MemoryNonceStore', () => {
  it('should tell reuse for another request from a retry, within the window only', async () => {
    // Prepare
    let now = 1_000_000_000;
    const store = new MemoryNonceStore({ now: () => now, windowSeconds: 300 });

    // Act
    const first = await store.seen('n1', 1_000_000, 'fpA');
    const retry = await store.seen('n1', 1_000_000, 'fpA');
    const reuse = await store.seen('n1', 1_000_000, 'fpB');
    const otherTs = await store.seen('n1', 1_000_001, 'fpB');
    now += 400_000;
    const afterWindow = await store.seen('n1', 1_000_000, 'fpB');

    // Assess
    expect([first, retry, reuse, otherTs, afterWindow]).toEqual([false, false, true, false, false]);
  });

  it('should stay within maxEntries', async () => {
    // Prepare
    const store = new MemoryNonceStore({ now: () => 0, maxEntries: 3 });

    // Act
    for (let i = 0; i < 10; i++) await store.seen(`n${i}`, 0, 'fp');

    // Assess
    expect(store.size).toBe(3);
    expect(await store.seen('n9', 0, 'other')).toBe(true);
    expect(await store.seen('n0', 0, 'other')).toBe(false);
  });
});
