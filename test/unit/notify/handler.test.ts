import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SnsSmsSender } from '#adapters/sns/sms.ts';
import { WechatSubscribeClient } from '#adapters/wechat/subscribe.ts';
import { DEFAULT_TEMPLATE_FIELDS } from '#core/notify/wechat.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { createNotifyHandler, type NotifyDeps } from '#functions/notify.ts';
import { resetWechatConfig } from '#functions/wechat/config.ts';

const sns = mockClient(SNSClient);
const OPENID = 'oAbCdEfGhIjKlMnOpQrStUvWxYz0';
const PHONE = '+8613912345678';

/** A fake api.weixin.qq.com on 127.0.0.1: tokens tok-1, tok-2, …; subscribe/send answers from a script. */
class FakeWechat {
  server!: Server;
  tokenRequests: URLSearchParams[] = [];
  sends: { token: string | null; body: Record<string, unknown> }[] = [];
  /** errcode answers of subscribe/send, in turn; 0 once empty. */
  script: number[] = [];
  tokenErrcode = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.tokenRequests = [];
    this.sends = [];
    this.script = [];
    this.tokenErrcode = 0;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body = '';
    for await (const chunk of req) body += chunk;
    res.setHeader('content-type', 'text/plain');
    if (req.method === 'GET' && url.pathname === '/cgi-bin/token') {
      this.tokenRequests.push(url.searchParams);
      const n = this.tokenRequests.length;
      res.end(
        JSON.stringify(
          this.tokenErrcode
            ? { errcode: this.tokenErrcode, errmsg: 'invalid appsecret' }
            : { access_token: `tok-${n}`, expires_in: 7200 },
        ),
      );
      return;
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/message/subscribe/send') {
      this.sends.push({ token: url.searchParams.get('access_token'), body: JSON.parse(body) });
      const errcode = this.script.shift() ?? 0;
      res.end(JSON.stringify({ errcode, errmsg: errcode ? 'scripted' : 'ok' }));
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  }
}

const wx = new FakeWechat();
let baseUrl: string;
const lines: string[] = [];

beforeAll(async () => {
  baseUrl = await wx.start();
  setLogSink((l) => lines.push(l));
});

afterAll(async () => {
  setLogSink((l) => process.stdout.write(`${l}\n`));
  await new Promise((resolve) => wx.server.close(resolve));
});

const now = new Date('2026-11-28T11:05:00Z');
let clockNow = now;

function deps(): NotifyDeps {
  const client = new WechatSubscribeClient({
    baseUrl,
    appId: 'wxMP',
    secret: 'S3CRET',
    clock: { now: () => clockNow },
  });
  return {
    clock: { now: () => clockNow },
    sms: () => new SnsSmsSender(new SNSClient({ region: 'cn-north-1' }), 'CITY12345'),
    wechat: async () => ({
      client,
      templateId: 'TPL-1',
      fields: DEFAULT_TEMPLATE_FIELDS,
      page: 'pages/index/index',
    }),
  };
}

const wechatNotice = (tn: string) =>
  JSON.stringify({
    channel: 'wechat',
    to: OPENID,
    subject: `【12345】您的诉求 ${tn} 已办结`,
    text: `【12345】您的诉求（受理编号 ${tn}）已办结，感谢您的评价。查询：https://x.cn/?tn=${tn}`,
    trackingNo: tn,
    kind: 'case-closed',
  });

function event(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({ messageId: `m${i}`, body }) as SQSEvent['Records'][number]),
  };
}

describe('Function: notify handler', () => {
  beforeEach(() => {
    sns.reset();
    wx.reset();
    lines.length = 0;
    clockNow = now;
  });

  it('should text an SMS notice through SNS as a transactional message with the sender id', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    const handler = createNotifyHandler(deps());

    // Act
    const out = await handler(
      event(JSON.stringify({ channel: 'sms', to: PHONE, text: '【12345】您的诉求已派单。', kind: 'case-dispatched' })),
    );

    // Assess
    expect(out.batchItemFailures).toEqual([]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      PhoneNumber: PHONE,
      Message: '【12345】您的诉求已派单。',
      MessageAttributes: {
        'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
        'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'CITY12345' },
      },
    });
    expect(lines.join('\n')).not.toContain('13912345678');
  });

  it('should fail an SMS item when SNS refuses it, and only that item', async () => {
    // Prepare
    sns.on(PublishCommand).rejectsOnce(new Error('Throttling')).resolves({ MessageId: 'sns-2' });
    const handler = createNotifyHandler(deps());
    const sms = (n: number) => JSON.stringify({ channel: 'sms', to: PHONE, text: `第${n}条`, kind: 'k' });

    // Act
    const out = await handler(event(sms(1), sms(2)));

    // Assess
    expect(out.batchItemFailures).toHaveLength(1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  });

  it('should fetch the WeChat token once and reuse it across sends and invocations', async () => {
    // Prepare
    const handler = createNotifyHandler(deps());

    // Act
    const first = await handler(event(wechatNotice('A-1'), wechatNotice('A-2'), wechatNotice('A-3')));
    const second = await handler(event(wechatNotice('A-4')));

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(wx.tokenRequests).toHaveLength(1);
    expect(Object.fromEntries(wx.tokenRequests[0] ?? [])).toEqual({
      grant_type: 'client_credential',
      appid: 'wxMP',
      secret: 'S3CRET',
    });
    expect(wx.sends.map((s) => s.token)).toEqual(['tok-1', 'tok-1', 'tok-1', 'tok-1']);
    expect(wx.sends.find((s) => (s.body.page as string).endsWith('A-4'))?.body).toEqual({
      touser: OPENID,
      template_id: 'TPL-1',
      page: 'pages/index/index?tn=A-4',
      lang: 'zh_CN',
      data: {
        character_string1: { value: 'A-4' },
        phrase2: { value: '已办结' },
        thing3: { value: '您的诉求已办结，感谢您的评价。' },
        time4: { value: '2026年11月28日 19:05' },
      },
    });
    expect(lines.join('\n')).not.toContain(OPENID);
  });

  it('should fetch a new token once the cached one is near expiry', async () => {
    // Prepare
    const handler = createNotifyHandler(deps());
    await handler(event(wechatNotice('B-1')));

    // Act
    clockNow = new Date(now.getTime() + 7200_000 - 60_000);
    const out = await handler(event(wechatNotice('B-2')));

    // Assess
    expect(out.batchItemFailures).toEqual([]);
    expect(wx.sends.map((s) => s.token)).toEqual(['tok-1', 'tok-2']);
  });

  it('should refresh the token on 42001 and 40001 and send again once', async () => {
    // Prepare
    const handler = createNotifyHandler(deps());
    wx.script = [42001];

    // Act
    const expired = await handler(event(wechatNotice('C-1')));
    wx.script = [40001];
    const invalid = await handler(event(wechatNotice('C-2')));

    // Assess
    expect(expired.batchItemFailures).toEqual([]);
    expect(invalid.batchItemFailures).toEqual([]);
    expect(wx.sends.map((s) => s.token)).toEqual(['tok-1', 'tok-2', 'tok-2', 'tok-3']);
    expect(wx.tokenRequests).toHaveLength(3);
  });

  it('should fail the item when the token is refused again after a refresh', async () => {
    // Prepare
    const handler = createNotifyHandler(deps());
    wx.script = [42001, 42001];

    // Act
    const out = await handler(event(wechatNotice('D-1')));

    // Assess
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(wx.sends).toHaveLength(2);
  });

  it('should drop a notice the citizen did not subscribe to (43101) with a log line, not a failure', async () => {
    // Prepare
    const handler = createNotifyHandler(deps());
    wx.script = [43101];

    // Act
    const out = await handler(event(wechatNotice('E-1')));

    // Assess
    expect(out.batchItemFailures).toEqual([]);
    const dropped = lines.map((l) => JSON.parse(l)).find((l) => String(l.msg).includes('43101'));
    expect(dropped).toMatchObject({ level: 'warn', openid: '***', trackingNo: 'E-1' });
  });

  it('should fail the items WeChat refuses with other errcodes, and the malformed ones, each alone', async () => {
    // Prepare
    const handler = createNotifyHandler(deps());
    sns.on(PublishCommand).resolves({ MessageId: 'sns-3' });
    wx.script = [47003, 0];

    // Act
    const out = await handler(
      event(
        wechatNotice('F-1'),
        '{"channel":"wechat","to":',
        JSON.stringify({ channel: 'sms', to: PHONE, text: '短信', kind: 'k' }),
        JSON.stringify({ channel: 'email', to: 'a@b.cn', text: 'mail', kind: 'k' }),
      ),
    );
    const next = await handler(event(wechatNotice('F-2')));

    // Assess
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m0', 'm1', 'm3']);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(next.batchItemFailures).toEqual([]);
    const failed = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'notice not sent');
    expect(failed).toMatchObject({ code: 'WECHAT_SEND_FAILED', details: { errcode: 47003 } });
  });

  it('should fail WeChat items when the token cannot be had, and get one on the next try', async () => {
    // Prepare
    const handler = createNotifyHandler(deps());
    wx.tokenErrcode = 40125;

    // Act
    const refused = await handler(event(wechatNotice('G-1'), wechatNotice('G-2')));
    wx.tokenErrcode = 0;
    const later = await handler(event(wechatNotice('G-3')));

    // Assess
    expect(refused.batchItemFailures).toHaveLength(2);
    expect(wx.tokenRequests).toHaveLength(2);
    expect(later.batchItemFailures).toEqual([]);
    expect(lines.join('\n')).not.toContain('S3CRET');
  });

  it('should fail WeChat items but still send SMS when the WeChat sender is not configured', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'sns-4' });
    const handler = createNotifyHandler({
      ...deps(),
      wechat: async () => {
        throw new Error('WECHAT_NOTICE_TEMPLATE_ID is not set');
      },
    });

    // Act
    const out = await handler(
      event(wechatNotice('H-1'), JSON.stringify({ channel: 'sms', to: PHONE, text: '短信', kind: 'k' })),
    );

    // Assess
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});

describe('Function: wechatSenderFromEnv', () => {
  it('should build the sender from the WeChat config and refuse a missing template id', async () => {
    // Prepare
    const { wechatSenderFromEnv } = await import('#functions/notify.ts');
    const saved = { ...process.env };
    process.env.WECHAT_MP_APP_ID = 'wxMP';
    process.env.WECHAT_MP_APP_SECRET = 'S3CRET';
    process.env.WECHAT_API_BASE = baseUrl;
    delete process.env.WECHAT_SECRET_ID;
    resetWechatConfig();

    try {
      // Act
      const missing = await wechatSenderFromEnv({ ...process.env, WECHAT_NOTICE_TEMPLATE_ID: '' }).catch(
        (e: unknown) => e,
      );
      const sender = await wechatSenderFromEnv({
        ...process.env,
        WECHAT_NOTICE_TEMPLATE_ID: 'TPL-9',
        WECHAT_NOTICE_PAGE: 'pages/case/index',
        WECHAT_MINIPROGRAM_STATE: 'trial',
      });
      const result = await sender.client.send({ touser: OPENID, template_id: sender.templateId, data: {} });

      // Assess
      expect(missing).toMatchObject({ code: 'NOTIFY_NOT_CONFIGURED' });
      expect(sender).toMatchObject({ templateId: 'TPL-9', page: 'pages/case/index', state: 'trial' });
      expect(result).toEqual({ outcome: 'sent', errcode: 0, refreshed: false });
      expect(wx.tokenRequests.at(-1)?.get('appid')).toBe('wxMP');
    } finally {
      process.env = saved;
      resetWechatConfig();
    }
  });
});
