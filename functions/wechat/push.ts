/**
 * 微信消息推送 (`GET|POST /channels/wechat/push`): WeChat's servers call this URL.
 * GET: URL verification, answered with the echostr (decrypted for 企业微信/政务微信).
 * POST: a text message becomes a report (idempotent on MsgId: WeChat's retries after 5 s are the same report) and is
 * answered with a passive reply carrying the tracking number, encrypted in 安全模式; an image, voice note or location
 * is kept for the citizen's open report. Verification and parsing live in `channels/wechat/push.ts`.
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */

import middy from '@middy/core';
import { dynamoClient, tableName } from '#adapters/dynamo/client.ts';
import {
  attachmentReplyText,
  createWechatPush,
  trackingReplyText,
  type WechatAttachmentUpdate,
  type WechatPush,
} from '#channels/wechat/push.ts';
import type { Case } from '#core/case.ts';
import { CityLoopError } from '#core/errors.ts';
import { shanghaiDay } from '#core/ids.ts';
import { type Accepted, acceptReport } from '#core/intake/accept.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { BlobStore, Clock, StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import type { CitizenUpdateInput, CitizenUpdateResult } from '../lib/citizen-update.ts';
import { bodyText, type HttpEvent, type HttpResult, httpErrors } from '../lib/http.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';
import { requireValue, wechatConfig } from './config.ts';
import { DynamoNonceStore } from './dynamo-nonce-store.ts';

/** WeChat's pushes are a few kB; the parser enforces the same bound on the decrypted message. */
export const PUSH_BODY_LIMIT = 64 * 1024;

/** States in which a report no longer takes additions: a new photo then waits for a new report. */
const FINISHED = new Set<Case['state']>(['closed', 'archived', 'answered', 'rejected']);

export interface PushHandlerDeps {
  push: WechatPush;
  clock: Clock;
  blobs: BlobStore;
  store: {
    listReportsOfCitizen(key: string, limit?: number): Promise<StoredReport[]>;
    getCase(caseId: string): Promise<Case | undefined>;
  };
  accept(request: IntakeRequest): Promise<Accepted>;
  /** Adds a 市民补充 to the citizen's open case (the case service); without it, updates are only kept as blobs. */
  addUpdate?: (input: CitizenUpdateInput) => Promise<CitizenUpdateResult>;
}

/** What a photo, voice or location message says on the case, in the department's words. */
export function updateText(update: WechatAttachmentUpdate): string {
  const a = update.attachment;
  if (a.type === 'image') return '【微信图片】市民补充了一张照片';
  if (a.type === 'voice') return `【微信语音】${a.recognition?.trim() || '（未识别出文字）'}`;
  const where = [a.location.address, a.location.lat !== undefined ? `${a.location.lat},${a.location.lon}` : '']
    .filter(Boolean)
    .join(' ');
  return `【微信位置】${where || '（位置）'}`;
}

function text(statusCode: number, body: string, type = 'text/plain; charset=utf-8'): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    body,
  };
}

/** Reports of a WeChat user read to find their open case (every text message is a report: "谢谢" ones too). */
const OPEN_REPORT_LOOKUP = 50;
/** Distinct cases of those reports looked up, newest first, in parallel. */
const OPEN_CASES_CHECKED = 10;

/**
 * The most recent report of this citizen that is still being handled: the newest reports read at once, their
 * distinct cases looked up together (a citizen who wrote a few short messages that were answered or refused since
 * must not have their photo filed as unattached).
 */
async function openReportOf(deps: PushHandlerDeps, openid: string): Promise<StoredReport | undefined> {
  const key = citizenKey({ openid });
  if (!key) return undefined;
  const byCase = new Map<string, StoredReport>();
  for (const report of await deps.store.listReportsOfCitizen(key, OPEN_REPORT_LOOKUP)) {
    const id = report.caseId ?? report.trackingNo;
    if (!byCase.has(id)) byCase.set(id, report);
  }
  const newest = [...byCase].slice(0, OPEN_CASES_CHECKED);
  const cases = await Promise.all(newest.map(([id]) => deps.store.getCase(id)));
  const open = newest.findIndex((_, i) => {
    const c = cases[i];
    return !c || !FINISHED.has(c.state);
  });
  return open < 0 ? undefined : newest[open]?.[1];
}

export async function handlePush(event: HttpEvent, deps: PushHandlerDeps): Promise<HttpResult> {
  const method = event.requestContext?.http?.method ?? 'GET';
  const query = event.queryStringParameters ?? {};
  if (method === 'GET') {
    const r = await deps.push.verifyUrl(query);
    if (!r.ok) throw r.error;
    return text(200, r.value);
  }
  if (method !== 'POST') throw new CityLoopError('METHOD_NOT_ALLOWED', `method ${method} not allowed`, 405);

  const body = bodyText(event, PUSH_BODY_LIMIT);
  const parsed = await deps.push.parse({ query, body });
  if (!parsed.ok) {
    // Events (subscribe, menu clicks) and other message types: acknowledged so WeChat does not retry them.
    if (parsed.error.code === 'UNSUPPORTED_MESSAGE') return text(200, 'success');
    throw parsed.error;
  }
  const message = parsed.value;
  const now = deps.clock.now();

  if (message.kind === 'text') {
    const id = message.intake.channelMessageId;
    // The raw input first: never lost, whatever happens next.
    const rawKey = `raw/wechat/${shanghaiDay(now)}/${id}.xml`;
    await deps.blobs.put(rawKey, Buffer.from(body, 'utf8'), 'application/xml');
    const request = normalizeIntake({ ...message.intake, rawKey });
    const accepted = await deps.accept(request);
    log.info('report accepted', { trackingNo: accepted.trackingNo, channel: 'wechat', created: accepted.created });
    const reply = deps.push.reply(message.reply, trackingReplyText(accepted.trackingNo));
    return text(200, reply, 'application/xml; charset=utf-8');
  }

  const update = message.update;
  const report = await openReportOf(deps, update.openid);
  const key = report
    ? `attachments/wechat/${report.trackingNo}/${update.channelMessageId}.json`
    : `attachments/wechat/pending/${citizenKey({ openid: update.openid })}/${update.channelMessageId}.json`;
  const record = { ...update, ...(report ? { trackingNo: report.trackingNo } : {}), storedAt: now.toISOString() };
  const bytes = Buffer.from(JSON.stringify(record), 'utf8');
  await deps.blobs.put(key, bytes, 'application/json');
  // On the case for the department to see (全要素留痕), when the citizen has one open.
  let added: CitizenUpdateResult | undefined;
  if (report && deps.addUpdate) {
    added = await deps.addUpdate({
      caseId: report.caseId ?? report.trackingNo,
      citizen: { openid: update.openid },
      text: updateText(update),
      attachments: [
        {
          name: `wechat-${update.attachment.type}-${update.channelMessageId}.json`,
          contentType: 'application/json',
          size: bytes.length,
          storageKey: key,
        },
      ],
    });
  }
  log.info('wechat attachment kept', {
    type: update.attachment.type,
    ...(report ? { trackingNo: report.trackingNo } : { pending: true }),
    ...(added ? { onCase: added.status } : {}),
  });
  const reply = deps.push.reply(message.reply, attachmentReplyText(report?.trackingNo));
  return text(200, reply, 'application/xml; charset=utf-8');
}

let push: WechatPush | undefined;

async function runtimeDeps(): Promise<PushHandlerDeps> {
  const rt = getRuntime();
  if (!push) {
    const config = await wechatConfig();
    push = createWechatPush(
      {
        token: requireValue(config.token, 'WECHAT_TOKEN'),
        appId: requireValue(config.appId, 'WECHAT_APP_ID'),
        ...(config.encodingAesKey ? { encodingAesKey: config.encodingAesKey } : {}),
        allowPlain: config.allowPlain || !config.encodingAesKey,
      },
      {
        now: () => getRuntime().clock.now().getTime(),
        nonces: new DynamoNonceStore(dynamoClient(), tableName()),
      },
    );
  }
  return {
    push,
    clock: rt.clock,
    blobs: rt.blobs,
    store: rt.store,
    accept: (request) => acceptReport(rt, request),
    // The case service (lifecycle, SLA calendar, taxonomy) loads with the first photo, voice or location message:
    // a text message, the usual first push, never needs it.
    addUpdate: async (input) => {
      const [{ addCitizenUpdate }, { caseService }] = await Promise.all([
        import('../lib/citizen-update.ts'),
        import('../lib/case-context.ts'),
      ]);
      return addCitizenUpdate({ cases: rt.store, service: caseService() }, input);
    },
  };
}

/** Drops the cached push verifier (after a configuration change in tests or the local stack). */
export function resetPushHandler(): void {
  push = undefined;
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(httpErrors())
  .handler(async function wechatPushHandler(event) {
    return handlePush(event, await runtimeDeps());
  });
