import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha1Signature, WXBizMsgCrypt } from '#channels/wechat/crypto.ts';
import { MemoryNonceStore } from '#channels/wechat/nonce-store.ts';
import { createWechatPush, type Query } from '#channels/wechat/push.ts';
import type { Result } from '#channels/wechat/result.ts';
import { buildXml } from '#channels/wechat/xml.ts';
import { appIdOf, vector } from './vectors.ts';

/** Short by default; `FUZZ_RUNS=20000` for a deep run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

const V = vector('mp_official_python_sample_decrypt');
const TOKEN = V.token;
const KEY = V.encoding_aes_key ?? '';
const APP_ID = appIdOf(V);
const TS = '1700000000';
const NOW = Number(TS) * 1000;
const crypt = new WXBizMsgCrypt({ token: TOKEN, encodingAesKey: KEY, appId: APP_ID });

function pushes() {
  const deps = { now: () => NOW, nonces: new MemoryNonceStore({ now: () => NOW }) };
  return {
    safe: createWechatPush({ token: TOKEN, encodingAesKey: KEY, appId: APP_ID }, deps),
    plain: createWechatPush({ token: TOKEN, appId: APP_ID }, deps),
  };
}

/** A result, never a throw; a failure is always a 4xx. */
async function cleanly<T>(p: Promise<Result<T>>): Promise<Result<T>> {
  const r = await p;
  if (!r.ok) {
    expect(r.error.status).toBeGreaterThanOrEqual(400);
    expect(r.error.status).toBeLessThan(500);
  }
  return r;
}

const queryValue = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 50 }), fc.constant(TS));
const query = fc.record({
  signature: queryValue,
  msg_signature: queryValue,
  timestamp: queryValue,
  nonce: queryValue,
  echostr: queryValue,
  encrypt_type: fc.constantFrom(undefined, 'aes', 'raw'),
}) as fc.Arbitrary<Query>;

/** Message-like field sets: known names, random values, sometimes missing. */
const fields = fc
  .record(
    {
      ToUserName: fc.string({ maxLength: 30 }),
      FromUserName: fc.string({ maxLength: 140 }),
      CreateTime: fc.oneof(fc.nat(), fc.string({ maxLength: 14 })),
      MsgType: fc.constantFrom('text', 'image', 'voice', 'location', 'event', 'video', ''),
      Content: fc.string({ unit: 'binary', maxLength: 200 }),
      MsgId: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), fc.string({ maxLength: 70 })),
      PicUrl: fc.webUrl(),
      MediaId: fc.string({ maxLength: 40 }),
      Format: fc.string({ maxLength: 20 }),
      Recognition: fc.string({ maxLength: 50 }),
      Location_X: fc.oneof(fc.double().map(String), fc.string({ maxLength: 10 })),
      Location_Y: fc.oneof(fc.double().map(String), fc.string({ maxLength: 10 })),
      Label: fc.string({ maxLength: 300 }),
    },
    { requiredKeys: [] },
  )
  .map((f) => buildXml(Object.entries(f)));

/** Well-formed messages with random content: these get past the checks into the mapping and the reply. */
const plausible = fc
  .record({
    ToUserName: fc.constant('gh_10f6c3c3ac5a'),
    FromUserName: fc.stringMatching(/^o[A-Za-z0-9_-]{27}$/),
    CreateTime: fc.integer({ min: 1_400_000_000, max: 1_900_000_000 }),
    MsgType: fc.constantFrom('text', 'image', 'voice', 'location'),
    Content: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
    MsgId: fc.bigInt({ min: 1n, max: 2n ** 63n }).map(String),
    PicUrl: fc.webUrl(),
    MediaId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    Format: fc.constantFrom('amr', 'speex'),
    Recognition: fc.string({ maxLength: 50 }),
    Location_X: fc.double({ min: -90, max: 90, noNaN: true }).map((d) => d.toFixed(6)),
    Location_Y: fc.double({ min: -180, max: 180, noNaN: true }).map((d) => d.toFixed(6)),
    Scale: fc.integer({ min: 1, max: 20 }),
    Label: fc.string({ maxLength: 300 }),
    AgentID: fc.oneof(fc.nat().map(String), fc.string({ maxLength: 25 })),
  })
  .map((f) => buildXml(Object.entries(f)));

const body = fc.oneof(fields, plausible, fc.string({ unit: 'binary', maxLength: 300 }));

describe('Fuzz: WechatPush', () => {
  it('should answer arbitrary GET queries with a value or a 4xx', async () => {
    const { safe, plain } = pushes();
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        await cleanly(safe.verifyUrl(q));
        await cleanly(plain.verifyUrl(q));
      }),
      { numRuns: RUNS },
    );
  });

  it('should answer arbitrary POSTs with a value or a 4xx', async () => {
    const { safe, plain } = pushes();
    await fc.assert(
      fc.asyncProperty(query, body, async (q, b) => {
        await cleanly(safe.parse({ query: q, body: b }));
        await cleanly(plain.parse({ query: q, body: b }));
      }),
      { numRuns: RUNS },
    );
  });

  it('should answer correctly signed plain POSTs of arbitrary content with a value or a 4xx', async () => {
    const { plain } = pushes();
    let nonce = 0;
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        nonce += 1;
        const n = String(nonce);
        const q = { signature: sha1Signature([TOKEN, TS, n]), timestamp: TS, nonce: n };
        await cleanly(plain.parse({ query: q, body: b }));
      }),
      { numRuns: RUNS },
    );
  });

  it('should answer correctly signed encrypted POSTs of arbitrary content with a value or a 4xx', async () => {
    const { safe } = pushes();
    let nonce = 0;
    await fc.assert(
      fc.asyncProperty(body, async (inner) => {
        nonce += 1;
        const n = String(nonce);
        const enc = crypt.encrypt(inner);
        const q = { msg_signature: crypt.signature(TS, n, enc), timestamp: TS, nonce: n };
        const r = await cleanly(safe.parse({ query: q, body: buildXml([['Encrypt', enc]]) }));
        // A message that maps must also be answerable.
        if (r.ok) expect(safe.reply(r.value.reply, '已受理').startsWith('<xml>')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
