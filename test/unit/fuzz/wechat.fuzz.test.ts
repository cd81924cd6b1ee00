/**
 * Fuzz: the WeChat channel. Official-account pushes (XML, plain and 安全模式 AES) through the real push handler with
 * in-memory ports: hostile message content correctly signed and encrypted, hostile XML bodies, tampered ciphertext
 * and signatures, size bombs. Mini-program JSON (parseJsonBody → parseSubmitRequest → submitToIntake →
 * normalizeIntake). Every answer is 200 or a coded 4xx; a refusal files no report; an accepted text is the clean form.
 */
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { WXBizMsgCrypt } from '#channels/wechat/crypto.ts';
import { parseJsonBody, parseSubmitRequest, submitToIntake } from '#channels/wechat/miniprogram.ts';
import { MemoryNonceStore } from '#channels/wechat/nonce-store.ts';
import { createWechatPush } from '#channels/wechat/push.ts';
import { buildXml } from '#channels/wechat/xml.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { handlePush } from '#functions/wechat/push.ts';
import { httpEvent, MemoryBlobs, MemoryReports } from '../wechat/handler-fakes.ts';
import {
  assertClean4xx,
  assertCleanIntake,
  countCases,
  deepJson,
  hostileText,
  NASTY,
  RUNS,
  sizeBomb,
} from './hostile.ts';

const TOKEN = 'FuzzToken0123456789';
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APP_ID = 'wx5823bf96d3bd56c7';
const NOW = new Date('2025-11-28T10:00:00+08:00');
const TS = String(Math.floor(NOW.getTime() / 1000));
const OPENID = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs';
const crypt = new WXBizMsgCrypt({ token: TOKEN, encodingAesKey: KEY, appId: APP_ID });

const cases = { push: 0, mini: 0, accepted: 0, miniAccepted: 0 };

function setup() {
  const reports = new MemoryReports();
  const blobs = new MemoryBlobs();
  const push = createWechatPush(
    { token: TOKEN, encodingAesKey: KEY, appId: APP_ID },
    { now: () => NOW.getTime(), nonces: new MemoryNonceStore({ now: () => NOW.getTime() }) },
  );
  return { reports, blobs, deps: { push, clock: { now: () => NOW }, blobs, store: reports, accept: reports.accept } };
}

const msgType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('text') },
  { weight: 2, arbitrary: fc.constantFrom('image', 'voice', 'location', 'event', 'link', '', '<x>') },
);
/** Mostly the expected value, sometimes hostile: most messages get past the envelope to the content. */
const usually = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: bad });

/** A message XML from hostile fields (the XML builder escapes with CDATA, as WeChat does). */
const messageXml = fc
  .record({
    type: msgType,
    content: fc.oneof(
      { weight: 6, arbitrary: hostileText },
      { weight: 1, arbitrary: sizeBomb(2048) },
      { weight: 1, arbitrary: sizeBomb(60_000) },
    ),
    from: usually(fc.constant(OPENID), hostileText),
    msgId: usually(fc.bigInt({ min: 1n, max: 2n ** 63n }).map(String), hostileText),
    createTime: usually(fc.constant(TS), hostileText),
  })
  .map((f) =>
    buildXml([
      ['ToUserName', 'gh_cityloop'],
      ['FromUserName', f.from],
      ['CreateTime', f.createTime],
      ['MsgType', f.type],
      ['Content', f.content],
      ['MsgId', f.msgId],
      ['PicUrl', 'http://mmbiz.qpic.cn/x'],
      ['MediaId', f.msgId],
    ]),
  );

/** Raw XML-ish bodies: declarations, entities, unclosed tags, deep nesting, binary. */
const hostileXml = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.integer({ min: 10, max: 5000 }).map((d) => `<xml>${'<a>'.repeat(d)}x${'</a>'.repeat(d)}</xml>`),
  fc.constant(
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml>&lol2;</xml>',
  ),
  fc.string({ unit: 'binary', maxLength: 300 }),
  hostileText.map((t) => `<xml><ToUserName><![CDATA[${t}]]></ToUserName><Encrypt>${t}</Encrypt></xml>`),
);

describe('Fuzz: WeChat push and mini-program', () => {
  beforeEach(() => setLogSink(() => undefined));
  afterAll(() => {
    countCases('wechat push (XML + WXBizMsgCrypt)', cases.push);
    countCases('wechat mini-program (JSON)', cases.mini);
  });

  async function answer(query: Record<string, string>, body: string, s = setup()) {
    cases.push++;
    const before = { reports: s.reports.reports.length };
    try {
      const res = await handlePush(httpEvent('POST', '/channels/wechat/push', { query, body }), s.deps);
      expect(res.statusCode).toBe(200);
      for (const r of s.reports.reports) assertCleanIntake(r.request);
      cases.accepted += s.reports.reports.length - before.reports;
      return { ok: true as const, s };
    } catch (e) {
      assertClean4xx(e);
      expect(s.reports.reports.length).toBe(before.reports);
      return { ok: false as const, s };
    }
  }

  it('should accept or cleanly refuse any correctly signed and encrypted message, whatever it says', async () => {
    await fc.assert(
      fc.asyncProperty(messageXml, fc.stringMatching(/^[A-Za-z0-9]{1,16}$/), async (xml, nonce) => {
        const enc = crypt.encryptReply(xml, TS, nonce);
        const query = { timestamp: TS, nonce, msg_signature: enc.msgSignature, encrypt_type: 'aes' };
        await answer(query, enc.xml);
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: plenty of hostile texts were accepted (and checked clean).
    expect(cases.accepted).toBeGreaterThan(RUNS / 10);
  });

  it('should refuse hostile XML, tampered ciphertext and forged signatures with a coded 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileXml,
        fc.constantFrom('aes', 'raw', ''),
        hostileText,
        fc.nat(40),
        async (body, mode, noise, flip) => {
          // A hostile body with a signature over it (gets past the signature, hits the parser) …
          const sig = crypt.signature(TS, 'n1', body);
          await answer({ timestamp: TS, nonce: 'n1', msg_signature: sig, signature: sig, encrypt_type: mode }, body);
          // … and a real encrypted message with one character changed, or a forged signature.
          const enc = crypt.encryptReply('<xml><MsgType>text</MsgType><Content>x</Content></xml>', TS, 'n2');
          const tampered = enc.xml.replace(
            /<Encrypt><!\[CDATA\[(.)/,
            (_m, c: string) => `<Encrypt><![CDATA[${c === 'A' ? 'B' : 'A'}`,
          );
          const r1 = await answer(
            { timestamp: TS, nonce: 'n2', msg_signature: enc.msgSignature, encrypt_type: 'aes' },
            tampered,
          );
          expect(r1.ok).toBe(false);
          const r2 = await answer(
            { timestamp: TS, nonce: 'n3', msg_signature: `${noise}${flip}`.slice(0, 40), encrypt_type: 'aes' },
            enc.xml,
          );
          expect(r2.ok).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('should refuse hostile query parameters (timestamp, nonce, signature) with a coded 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('timestamp', 'nonce', 'msg_signature', 'signature', 'encrypt_type', 'echostr'),
          hostileText,
        ),
        async (query) => {
          const r = await answer(query, '<xml><Encrypt>AAAA</Encrypt></xml>');
          expect(r.ok).toBe(false);
        },
      ),
      { numRuns: Math.max(20, Math.floor(RUNS / 2)) },
    );
  });

  it('should turn any mini-program JSON into the clean one form or a coded 4xx', () => {
    const photo = fc.record({
      storageKey: usually(fc.stringMatching(/^uploads\/[a-z0-9]{4,12}\.jpg$/), hostileText),
      contentType: usually(fc.constantFrom('image/jpeg', 'image/png'), hostileText),
      size: usually(fc.integer({ min: 1, max: 1_000_000 }), fc.integer()),
    });
    const form = fc.record(
      {
        clientRequestId: usually(fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/), hostileText),
        title: fc.oneof(hostileText, sizeBomb(100)),
        text: usually(hostileText, sizeBomb(4000)),
        nature: fc.oneof(fc.constantFrom('投诉', '咨询'), hostileText),
        location: fc.record(
          {
            latitude: usually(fc.double({ min: 18, max: 53, noNaN: true }), fc.double()),
            longitude: usually(fc.double({ min: 73, max: 135, noNaN: true }), fc.double()),
            address: fc.oneof(hostileText, sizeBomb(200)),
            type: usually(fc.constantFrom('gcj02', 'wgs84'), hostileText),
          },
          { requiredKeys: ['latitude', 'longitude'] },
        ),
        photos: fc.array(photo, { maxLength: 10 }),
      },
      { requiredKeys: ['clientRequestId', 'text'] },
    );
    const submit = fc.oneof(
      { weight: 6, arbitrary: form.map((o) => JSON.stringify(o)) },
      { weight: 1, arbitrary: deepJson },
      { weight: 1, arbitrary: hostileText },
      { weight: 1, arbitrary: sizeBomb(40_000) },
    );
    fc.assert(
      fc.property(submit, (body) => {
        cases.mini++;
        try {
          const json = parseJsonBody(body);
          if (!json.ok) throw json.error;
          const s = parseSubmitRequest(json.value);
          if (!s.ok) throw s.error;
          const draft = submitToIntake(s.value, { openid: OPENID, receivedAt: NOW.toISOString() });
          if (!draft.ok) throw draft.error;
          assertCleanIntake(normalizeIntake(draft.value as never));
          cases.miniAccepted++;
        } catch (e) {
          assertClean4xx(e);
        }
      }),
      { numRuns: RUNS },
    );
    expect(cases.miniAccepted).toBeGreaterThan(0);
  });
});
