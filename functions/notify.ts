/**
 * 通知 consumer of the `notify` queue: the citizen notices the AWS outbox (`adapters/ses/outbox.ts`) queued for the
 * channels other than email. SMS through Amazon SNS (hotline and web callers with a phone); WeChat subscribe
 * messages for citizens who came through the mini-program.
 * Partial batch failures (`ReportBatchItemFailures`): a malformed message or a failed send fails alone and is
 * retried until the DLQ; a citizen who refused the subscription (WeChat 43101) is dropped with a log line.
 *
 * Env: SMS_SENDER_ID (optional SNS sender id); WECHAT_NOTICE_TEMPLATE_ID (the subscribe template), WECHAT_NOTICE_FIELDS
 * (its keyword keys, see `core/notify/wechat.ts`), WECHAT_NOTICE_PAGE (mini-program page, default `pages/index/index`),
 * WECHAT_MINIPROGRAM_STATE (`developer` | `trial` | `formal`); the mini-program appId/secret and API base through
 * `wechatConfig()` (WECHAT_SECRET_ID).
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SnsSmsSender, snsClient } from '#adapters/sns/sms.ts';
import { type SubscribeMessage, type SubscribeResult, WechatSubscribeClient } from '#adapters/wechat/subscribe.ts';
import { CityLoopError } from '#core/errors.ts';
import { type Notice, parseNotice, type SmsNotice, type WechatNotice } from '#core/notify/message.ts';
import { noticePage, parseTemplateFields, subscribeData, type TemplateFields } from '#core/notify/wechat.ts';
import { type Clock, systemClock } from '#core/ports.ts';
import { log } from './lib/log.ts';
import { requireValue, wechatConfig } from './wechat/config.ts';

export interface SmsPort {
  send(phone: string, text: string): Promise<{ messageId?: string }>;
}

export interface WechatSender {
  client: { send(message: SubscribeMessage): Promise<SubscribeResult> };
  templateId: string;
  fields: TemplateFields;
  page: string;
  state?: string;
}

export interface NotifyDeps {
  clock: Clock;
  sms: () => SmsPort;
  /** Built on the first WeChat notice (reads the WeChat secret); a failure fails only the WeChat items. */
  wechat: () => Promise<WechatSender>;
}

const MINIPROGRAM_STATES = new Set(['developer', 'trial', 'formal']);

function configError(message: string): CityLoopError {
  return new CityLoopError('NOTIFY_NOT_CONFIGURED', message, 500);
}

/** The WeChat sender from `wechatConfig()` and the notice env vars. */
export async function wechatSenderFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  clock: Clock = systemClock,
): Promise<WechatSender> {
  const config = await wechatConfig();
  const templateId = env.WECHAT_NOTICE_TEMPLATE_ID;
  if (!templateId) throw configError('WECHAT_NOTICE_TEMPLATE_ID is not set');
  const fields = parseTemplateFields(env.WECHAT_NOTICE_FIELDS);
  if (!fields) throw configError('WECHAT_NOTICE_FIELDS must be four template keys, e.g. character_string1,phrase2,…');
  const state = env.WECHAT_MINIPROGRAM_STATE;
  if (state !== undefined && state !== '' && !MINIPROGRAM_STATES.has(state)) {
    throw configError('WECHAT_MINIPROGRAM_STATE must be developer, trial or formal');
  }
  const client = new WechatSubscribeClient({
    baseUrl: config.miniProgram.apiBase,
    appId: requireValue(config.miniProgram.appId, 'WECHAT_MP_APP_ID'),
    secret: requireValue(config.miniProgram.appSecret, 'WECHAT_MP_APP_SECRET'),
    clock,
  });
  return {
    client,
    templateId,
    fields,
    page: env.WECHAT_NOTICE_PAGE || 'pages/index/index',
    ...(state ? { state } : {}),
  };
}

async function sendSms(deps: NotifyDeps, n: SmsNotice): Promise<void> {
  const { messageId } = await deps.sms().send(n.to, n.text);
  log.info('sms notice sent', { phone: n.to, kind: n.kind, trackingNo: n.trackingNo, snsMessageId: messageId });
}

async function sendWechat(deps: NotifyDeps, sender: WechatSender, n: WechatNotice): Promise<void> {
  const result = await sender.client.send({
    touser: n.to,
    template_id: sender.templateId,
    page: noticePage(sender.page, n),
    data: subscribeData(n, deps.clock.now(), sender.fields),
    lang: 'zh_CN',
    ...(sender.state ? { miniprogram_state: sender.state } : {}),
  });
  if (result.outcome === 'drop') {
    log.warn('wechat notice dropped: the citizen did not accept the subscription (43101)', {
      openid: n.to,
      kind: n.kind,
      trackingNo: n.trackingNo,
    });
    return;
  }
  log.info('wechat notice sent', { openid: n.to, kind: n.kind, trackingNo: n.trackingNo, refreshed: result.refreshed });
}

export function createNotifyHandler(deps: NotifyDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  let wechat: Promise<WechatSender> | undefined;
  const wechatSender = (): Promise<WechatSender> => {
    wechat ??= deps.wechat().catch((e: unknown) => {
      // Not cached: the next item (or invocation) tries again once the secret is fixed.
      wechat = undefined;
      throw e;
    });
    return wechat;
  };

  return async (event) => {
    const results = await Promise.all(
      event.Records.map(async (r): Promise<string | undefined> => {
        const parsed = parseNotice(r.body);
        if (!parsed.ok) {
          log.error('malformed notice', { messageId: r.messageId, error: parsed.error.message });
          return r.messageId;
        }
        const n: Notice = parsed.notice;
        try {
          if (n.channel === 'sms') await sendSms(deps, n);
          else await sendWechat(deps, await wechatSender(), n);
          return undefined;
        } catch (e) {
          const err = e as Error & { code?: string; details?: unknown; name?: string };
          log.error('notice not sent', {
            messageId: r.messageId,
            channel: n.channel,
            kind: n.kind,
            trackingNo: n.trackingNo,
            error: err.message,
            code: err instanceof CityLoopError ? err.code : err.name,
            ...(err instanceof CityLoopError && err.details !== undefined ? { details: err.details } : {}),
          });
          return r.messageId;
        }
      }),
    );
    return {
      batchItemFailures: results.filter((id): id is string => id !== undefined).map((id) => ({ itemIdentifier: id })),
    };
  };
}

let sms: SnsSmsSender | undefined;

/** The container's handler: SNS and WeChat clients built on first use and kept for the container's life. */
export const notifyHandler = createNotifyHandler({
  clock: systemClock,
  sms: () => {
    sms ??= new SnsSmsSender(snsClient(), process.env.SMS_SENDER_ID || undefined);
    return sms;
  },
  wechat: () => wechatSenderFromEnv(),
});

export const handler = middy<SQSEvent, SQSBatchResponse>().handler(notifyHandler);
