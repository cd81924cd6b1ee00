/**
 * Citizen data and secrets never reach the logs: the handlers are driven with real-looking data (a mobile number in
 * every written form, an email, a name, a WeChat openid, a caller number from telephony) and with their secrets
 * configured, on the success and the failure paths; every log line is captured (`setLogSink`) and scanned.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WXBizMsgCrypt } from '#channels/wechat/crypto.ts';
import { MemoryNonceStore } from '#channels/wechat/nonce-store.ts';
import { createWechatPush } from '#channels/wechat/push.ts';
import { buildXml } from '#channels/wechat/xml.ts';
import { handleConnectEvent } from '#functions/hotline/connect.ts';
import { log, setLogSink } from '#functions/lib/log.ts';
import { handlePush } from '#functions/wechat/push.ts';
import { submissions, World } from '../faults/world.ts';
import { MemoryCalls, MemoryStore } from '../hotline/fakes.ts';
import { httpEvent, MemoryBlobs, MemoryReports } from '../wechat/handler-fakes.ts';

const PHONE = '13912345678';
const EMAIL = 'zhang.xiaoming@example.com';
const NAME = '张晓明';
const OPENID = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs';

/** Every way the contact could show up in a log line. */
const LEAKS = [
  PHONE,
  `+86${PHONE}`,
  '139 1234 5678',
  '139-1234-5678',
  EMAIL,
  'zhang.xiaoming',
  NAME,
  OPENID,
  '+8675512345678',
  '0755-12345678',
];

function leaksIn(lines: string[], extra: string[] = []): string[] {
  const found: string[] = [];
  for (const l of lines)
    for (const s of [...LEAKS, ...extra]) if (l.includes(s)) found.push(`${s} in ${l.slice(0, 200)}`);
  return found;
}

describe('Security: citizen data and secrets stay out of the logs', () => {
  const lines: string[] = [];
  beforeEach(() => {
    lines.length = 0;
    setLogSink((l) => lines.push(l));
  });

  it('should mask contacts by field name and inside free text, in every written form', () => {
    // Act
    log.info(`来电 ${PHONE}，回拨 +86${PHONE}，邮箱 ${EMAIL}`, {
      citizen: { phone: `+86${PHONE}`, email: EMAIL, name: NAME, openid: OPENID },
      caller: '0755-12345678',
      nested: { deeper: { text: `请联系 139 1234 5678 或 139-1234-5678，或 ${EMAIL}` } },
      list: [{ mobile: PHONE }, `tel:+86${PHONE}`],
      tel: '+8675512345678',
    });
    // Assess
    expect(lines).toHaveLength(1);
    expect(leaksIn(lines)).toEqual([]);
    expect(lines[0]).toContain('****5678');
  });

  it('should leave tracking numbers, dates and amounts readable', () => {
    log.info('受理编号 20261129000001，2025-11-28 10:00 受理，金额 1234567 元，工单 202611290000123', {});
    expect(lines[0]).toContain('20261129000001');
    expect(lines[0]).toContain('2025-11-28 10:00');
    expect(lines[0]).toContain('1234567 元');
    expect(lines[0]).toContain('202611290000123');
  });

  it('should log a web report and its triage without the citizen’s contact', async () => {
    // Prepare
    const w = await new World().start();
    try {
      const [s] = submissions(1, 'privacy');
      const body = {
        ...s!.body,
        text: `我的电话 ${PHONE}（也可以打 139-1234-5678），邮箱 ${EMAIL}，${(s!.body as { text: string }).text}`,
        citizen: { phone: `+86 ${PHONE}`, email: EMAIL, name: NAME },
      };
      // Act: accepted, triaged, and a refused one with the contact in the offending field.
      await w.submit({ key: 'privacy-key-0001', body });
      await w.pump();
      await w.post({ ...body, citizen: { phone: `${PHONE}0000`, email: EMAIL } });
      // Assess
      expect(w.logs.some((l) => l.includes('report accepted'))).toBe(true);
      expect(w.logs.some((l) => l.includes('triaged'))).toBe(true);
      expect(leaksIn(w.logs)).toEqual([]);
    } finally {
      w.stop();
    }
  });

  it('should log WeChat pushes without the openid, the token or the AES key, also when the signature is wrong', async () => {
    // Prepare: secrets as the handler gets them from env / Secrets Manager.
    const token = 'SecretToken9f8e7d6c';
    const encodingAesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    const appId = 'wx5823bf96d3bd56c7';
    const now = new Date('2025-11-28T10:00:00+08:00');
    const push = createWechatPush(
      { token, encodingAesKey, appId },
      { now: () => now.getTime(), nonces: new MemoryNonceStore({ now: () => now.getTime() }) },
    );
    const reports = new MemoryReports();
    const deps = { push, clock: { now: () => now }, blobs: new MemoryBlobs(), store: reports, accept: reports.accept };
    const crypt = new WXBizMsgCrypt({ token, encodingAesKey, appId });
    const xml = buildXml([
      ['ToUserName', 'gh_cityloop'],
      ['FromUserName', OPENID],
      ['CreateTime', Math.floor(now.getTime() / 1000)],
      ['MsgType', 'text'],
      ['Content', `和平路88号路灯坏了，我是${NAME}，电话${PHONE}`],
      ['MsgId', '1234567890123456'],
    ]);
    const ts = String(Math.floor(now.getTime() / 1000));
    const enc = crypt.encryptReply(xml, ts, 'nonce123');
    const query = { timestamp: ts, nonce: 'nonce123', msg_signature: enc.msgSignature, encrypt_type: 'aes' };
    // Act: one good push, one with a forged signature.
    const ok = await handlePush(httpEvent('POST', '/channels/wechat/push', { query, body: enc.xml }), deps);
    const forged = { ...query, nonce: 'nonce456', msg_signature: '0'.repeat(40) };
    await handlePush(httpEvent('POST', '/channels/wechat/push', { query: forged, body: enc.xml }), deps).catch((e) =>
      log.warn('push refused', { error: (e as Error).message, code: (e as { code?: string }).code }),
    );
    // Assess
    expect(ok.statusCode).toBe(200);
    expect(reports.reports).toHaveLength(1);
    expect(lines.length).toBeGreaterThan(0);
    expect(leaksIn(lines, [token, encodingAesKey, enc.msgSignature])).toEqual([]);
  });

  it('should log Amazon Connect calls without the caller’s number', async () => {
    // Prepare
    const event = {
      Name: 'ContactFlowEvent',
      Details: {
        ContactData: {
          ContactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
          Channel: 'VOICE',
          InitiationMethod: 'INBOUND',
          InitialContactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
          CustomerEndpoint: { Address: `+86${PHONE}`, Type: 'TELEPHONE_NUMBER' },
          SystemEndpoint: { Address: '+8675512345', Type: 'TELEPHONE_NUMBER' },
          Attributes: { note: `回拨 ${PHONE}` },
          InstanceARN: 'arn:aws:connect:us-east-1:000000000000:instance/x',
          Queue: null,
        },
        Parameters: {},
      },
    };
    const deps = { calls: new MemoryCalls(), store: new MemoryStore(), clock: { now: () => new Date() } };
    // Act: a call, and a malformed event carrying the number.
    await handleConnectEvent(event, deps);
    await handleConnectEvent(
      { Details: { ContactData: { ContactId: '!', CustomerEndpoint: { Address: PHONE } } } },
      deps,
    );
    // Assess
    expect(lines.some((l) => l.includes('call recorded'))).toBe(true);
    expect(leaksIn(lines)).toEqual([]);
  });
});

describe('Security: secrets come from env or Secrets Manager, never from the repository', () => {
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
  });
  afterEach(() => {
    process.env = saved;
  });

  it('should ship no secret values in the code or config the functions bundle', async () => {
    // Assess: the only keys in the repository are the local stack's documented test keys, never deployed.
    const { readFileSync, readdirSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = new URL('../../../', import.meta.url).pathname;
    const suspicious: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|json)$/.test(name)) {
          const text = readFileSync(p, 'utf8');
          if (/AKIA[0-9A-Z]{16}|-----BEGIN (RSA |EC )?PRIVATE KEY|aws_secret_access_key\s*=/.test(text))
            suspicious.push(p);
          if (
            /(WECHAT_TOKEN|WECHAT_ENCODING_AES_KEY|WECHAT_MP_APP_SECRET|CITIZEN_TOKEN_SECRET|OPEN311_API_KEY)\s*[:=]\s*['"][^'"]{8,}/.test(
              text,
            )
          ) {
            suspicious.push(p);
          }
        }
      }
    };
    for (const dir of ['functions', 'channels', 'core', 'adapters', 'infra', 'config']) walk(join(root, dir));
    expect(suspicious).toEqual([]);
  });
});
