/**
 * WeChat message push (消息推送) to our callback URL: verify, parse and map, without I/O of its own.
 * Docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html (GET check, plain
 * mode) and https://developer.work.weixin.qq.com/document/path/90968 (企业微信/政务微信: msg_signature everywhere).
 *
 * Order of checks on every request: query parameters → body size → signature → timestamp window → decrypt (safe
 * mode) → XML → message mapping → nonce. The nonce store is touched last, so only a fully valid request can record a
 * nonce: junk cannot burn nonces, and a replay of a good request is refused.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { CityLoopError } from '#core/errors.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { IntakeRequest, LIMITS, Location } from '#core/intake/schema.ts';
import { type RandomSource, sha1Signature, signatureEquals, WXBizMsgCrypt } from './crypto.ts';
import { attempt, type Result } from './result.ts';
import { assertSize, buildXml, DEFAULT_MAX_XML_BYTES, parseXml, textField, type XmlFields } from './xml.ts';

/**
 * Replay guard. `seen` answers true when (nonce, timestamp) was already used for a different request; the first use
 * records it with the request's fingerprint. The same request again is not a replay: WeChat re-sends an unanswered
 * push byte for byte after 5 s (up to 3 times), and refusing that retry would show the citizen an error although
 * the report exists (it is idempotent on MsgId). A captured signature reused with another body is refused.
 */
export interface NonceStore {
  seen(nonce: string, timestamp: number, fingerprint: string): Promise<boolean>;
}

export interface WechatPushConfig {
  /** WECHAT_TOKEN. */
  token: string;
  /** WECHAT_ENCODING_AES_KEY; without it only plain mode is possible. */
  encodingAesKey?: string;
  /** WECHAT_APP_ID: AppID of the 公众号/小程序, or the receiveid (CorpID) for 企业微信/政务微信. */
  appId: string;
  /** Accept plain-mode POSTs although a key is configured (明文/兼容模式). Default: only when no key is set. */
  allowPlain?: boolean;
  /** Default 64 KiB. */
  maxBodyBytes?: number;
  /** Allowed clock difference in seconds; default 300 (5 minutes). */
  windowSeconds?: number;
}

export interface WechatPushDeps {
  /** Milliseconds since the epoch. */
  now: () => number;
  nonces: NonceStore;
  /** Random source for the 16-byte prefix of encrypted replies (deterministic in tests). */
  random?: RandomSource;
}

export type Query = Readonly<Record<string, string | undefined>>;

export interface PushRequest {
  query: Query;
  body: string;
}

/** What the passive reply needs; carried from the request to the reply. */
export interface ReplyContext {
  /** The citizen: FromUserName of the push (openid, or userid on WeCom). */
  toUser: string;
  /** Our account: ToUserName of the push. */
  fromUser: string;
  /** Whether the request came in safe mode: the reply must then be encrypted. */
  encrypted: boolean;
  /** Request nonce, reused in the reply envelope as WeChat's own SDKs do. */
  nonce: string;
  /** WeCom application id, echoed in the reply. */
  agentId?: string;
}

/** An image, voice note or location sent in the chat: attached to the citizen's open draft or latest report. */
export const WechatAttachmentUpdate = z.object({
  channel: z.literal('wechat'),
  /** WeChat MsgId: the idempotency key of this update. */
  channelMessageId: z.string().check(z.minLength(1), z.maxLength(LIMITS.channelMessageId)),
  openid: z.string().check(z.minLength(1), z.maxLength(128)),
  receivedAt: z.iso.datetime({ offset: true }),
  attachment: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('image'),
      /** Fetch only from WeChat's media hosts (or via MediaId and the media API): never an arbitrary URL. */
      picUrl: z.string().check(z.maxLength(1024)),
      mediaId: z.string().check(z.minLength(1), z.maxLength(256)),
    }),
    z.object({
      type: z.literal('voice'),
      mediaId: z.string().check(z.minLength(1), z.maxLength(256)),
      format: z.string().check(z.maxLength(16)),
      /** 语音识别 result, when the account has recognition on: text to append to the report. */
      recognition: z.optional(z.string().check(z.maxLength(LIMITS.text))),
    }),
    z.object({
      type: z.literal('location'),
      /** lat/lon as sent (GCJ-02), Label as address. */
      location: Location,
      scale: z.optional(z.number()),
    }),
  ]),
});
export type WechatAttachmentUpdate = z.infer<typeof WechatAttachmentUpdate>;

export type PushMessage =
  | { kind: 'text'; intake: IntakeRequest; reply: ReplyContext }
  | { kind: 'attachment'; update: WechatAttachmentUpdate; reply: ReplyContext };

export interface WechatPush {
  /** GET URL verification; the value is the body to answer with (as text/plain). */
  verifyUrl(query: Query): Promise<Result<string>>;
  /** POST: verify, decrypt when in safe mode, parse and map. */
  parse(request: PushRequest): Promise<Result<PushMessage>>;
  /** Passive reply XML with `content` as a text message; encrypted when the request was. */
  reply(context: ReplyContext, content: string): string;
}

const TITLE_CHARS = 20;
const TIMESTAMP = /^\d{1,12}$/;
const NONCE = /^[A-Za-z0-9_-]{1,64}$/;
const MSG_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ECHOSTR = /^[A-Za-z0-9+/=_-]{1,1024}$/;

/** A short digest of the signed content, to tell WeChat's retry of a request from another request. */
export function fingerprint(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, 32);
}

function bad(code: string, message: string, status = 400): CityLoopError {
  return new CityLoopError(code, message, status);
}

function param(query: Query, name: string, pattern?: RegExp): string {
  const value = Object.hasOwn(query, name) ? query[name] : undefined;
  if (value === undefined || value === '') throw bad('MISSING_PARAMETER', `query parameter ${name} is required`);
  if (pattern && !pattern.test(value)) throw bad('INVALID_PARAMETER', `query parameter ${name} is malformed`);
  return value;
}

function field(fields: XmlFields, name: string, max = 4096): string {
  const value = textField(fields, name)?.trim();
  if (value === undefined || value === '') throw bad('MISSING_FIELD', `<${name}> is required`);
  if (value.length > max) throw bad('INVALID_MESSAGE', `<${name}> is too long`, 422);
  return value;
}

/** WeChat CreateTime (seconds) as ISO 8601 in China Standard Time, e.g. 2014-09-03T17:14:28.000+08:00. */
export function createTimeToIso(createTime: string): string {
  // At most 12 digits: far inside the JS date range.
  if (!TIMESTAMP.test(createTime)) throw bad('INVALID_MESSAGE', '<CreateTime> must be decimal seconds', 422);
  return toShanghaiIso(new Date(Number(createTime) * 1000));
}

/** The first line of the text, at most 20 characters (code points), with … when cut. */
export function titleFromText(text: string): string {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .find((l) => l.length > 0);
  const chars = Array.from(line ?? '');
  return chars.length > TITLE_CHARS ? `${chars.slice(0, TITLE_CHARS).join('')}…` : chars.join('');
}

function validated<T>(schema: z.ZodMiniType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new CityLoopError(
      'INVALID_MESSAGE',
      'message does not fit the intake form',
      422,
      r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return r.data;
}

function coordinate(fields: XmlFields, name: string): number {
  const raw = field(fields, name, 32);
  if (!/^-?\d{1,3}(?:\.\d{1,15})?$/.test(raw)) throw bad('INVALID_MESSAGE', `<${name}> is not a coordinate`, 422);
  return Number(raw);
}

/**
 * Maps a parsed WeChat message to what the intake service takes: text → an IntakeRequest; image, voice, location →
 * an attachment update. Other types (events, video, link, file) are UNSUPPORTED_MESSAGE (422): the handler should
 * still answer WeChat with `success` so it does not retry them.
 */
export function mapMessage(fields: XmlFields, mode: { encrypted: boolean; nonce: string }): PushMessage {
  const msgType = field(fields, 'MsgType', 32);
  if (!['text', 'image', 'voice', 'location'].includes(msgType)) {
    throw bad('UNSUPPORTED_MESSAGE', `MsgType ${msgType} is not handled`, 422);
  }
  const openid = field(fields, 'FromUserName', 128);
  const reply: ReplyContext = {
    toUser: openid,
    fromUser: field(fields, 'ToUserName', 128),
    encrypted: mode.encrypted,
    nonce: mode.nonce,
  };
  const agentId = textField(fields, 'AgentID')?.trim();
  if (agentId && /^\d{1,15}$/.test(agentId)) reply.agentId = agentId;
  const msgId = field(fields, 'MsgId', 64);
  if (!MSG_ID.test(msgId)) throw bad('INVALID_MESSAGE', '<MsgId> is malformed', 422);
  const receivedAt = createTimeToIso(field(fields, 'CreateTime', 12));

  if (msgType === 'text') {
    const text = field(fields, 'Content', LIMITS.text);
    const intake = validated(IntakeRequest, {
      channel: 'wechat',
      channelMessageId: msgId,
      receivedAt,
      citizen: { openid },
      title: titleFromText(text),
      text,
    });
    return { kind: 'text', intake, reply };
  }

  let attachment: WechatAttachmentUpdate['attachment'];
  if (msgType === 'image') {
    attachment = { type: 'image', picUrl: field(fields, 'PicUrl', 1024), mediaId: field(fields, 'MediaId', 256) };
  } else if (msgType === 'voice') {
    const recognition = textField(fields, 'Recognition')?.trim();
    attachment = {
      type: 'voice',
      mediaId: field(fields, 'MediaId', 256),
      format: field(fields, 'Format', 16),
      ...(recognition ? { recognition } : {}),
    };
  } else {
    const label = textField(fields, 'Label')?.trim();
    const scale = textField(fields, 'Scale')?.trim();
    attachment = {
      type: 'location',
      location: {
        lat: coordinate(fields, 'Location_X'),
        lon: coordinate(fields, 'Location_Y'),
        datum: 'GCJ02',
        ...(label ? { address: Array.from(label).slice(0, LIMITS.address).join('') } : {}),
      },
      ...(scale && /^\d{1,3}$/.test(scale) ? { scale: Number(scale) } : {}),
    };
  }
  const update = validated(WechatAttachmentUpdate, {
    channel: 'wechat',
    channelMessageId: msgId,
    openid,
    receivedAt,
    attachment,
  });
  return { kind: 'attachment', update, reply };
}

/** The passive reply text after a report is accepted. */
export function trackingReplyText(trackingNo: string): string {
  return `您的诉求已受理，受理编号：${trackingNo}。我们将尽快办理，可凭受理编号查询办理进度。`;
}

/** The passive reply text after an image, voice or location was attached. */
export function attachmentReplyText(trackingNo?: string): string {
  return trackingNo ? `已收到补充材料，已附加到诉求 ${trackingNo}。` : '已收到补充材料，请发送文字描述您的诉求。';
}

/** Plain passive text reply (被动回复文本消息). */
export function buildTextReplyXml(context: ReplyContext, content: string, createTime: number): string {
  const fields: [string, string | number][] = [
    ['ToUserName', context.toUser],
    ['FromUserName', context.fromUser],
    ['CreateTime', createTime],
    ['MsgType', 'text'],
    ['Content', content],
  ];
  if (context.agentId) fields.push(['AgentID', Number(context.agentId)]);
  return buildXml(fields);
}

export function createWechatPush(config: WechatPushConfig, deps: WechatPushDeps): WechatPush {
  if (!config.token || !config.appId) {
    throw new CityLoopError('WECHAT_CONFIG_INVALID', 'WECHAT_TOKEN and WECHAT_APP_ID are required', 500);
  }
  const crypt = config.encodingAesKey
    ? new WXBizMsgCrypt(
        { token: config.token, encodingAesKey: config.encodingAesKey, appId: config.appId },
        deps.random,
      )
    : undefined;
  const allowPlain = config.allowPlain ?? crypt === undefined;
  const maxBytes = config.maxBodyBytes ?? DEFAULT_MAX_XML_BYTES;
  const window = config.windowSeconds ?? 300;

  function checkTimestamp(timestamp: string): void {
    const skew = Math.abs(deps.now() / 1000 - Number(timestamp));
    if (!(skew <= window)) {
      throw bad('STALE_TIMESTAMP', `timestamp is more than ${window} s away from server time`, 401);
    }
  }

  async function checkNonce(nonce: string, timestamp: string, signed: string): Promise<void> {
    if (await deps.nonces.seen(nonce, Number(timestamp), fingerprint(signed))) {
      throw bad('NONCE_REUSED', 'this nonce was already used for another request', 409);
    }
  }

  function checkPlainSignature(query: Query, timestamp: string, nonce: string): void {
    const signature = param(query, 'signature');
    if (!signatureEquals(signature, sha1Signature([config.token, timestamp, nonce]))) {
      throw bad('INVALID_SIGNATURE', 'signature does not match', 401);
    }
  }

  function requireCrypt(): WXBizMsgCrypt {
    if (!crypt) throw bad('SAFE_MODE_NOT_CONFIGURED', 'encrypted callbacks need WECHAT_ENCODING_AES_KEY', 400);
    return crypt;
  }

  return {
    verifyUrl(query) {
      return attempt(async () => {
        const timestamp = param(query, 'timestamp', TIMESTAMP);
        const nonce = param(query, 'nonce', NONCE);
        // Some proxies turn an unescaped '+' of the base64 echostr into a space.
        const echostr = param(query, 'echostr').replaceAll(' ', '+');
        if (!ECHOSTR.test(echostr)) throw bad('INVALID_PARAMETER', 'query parameter echostr is malformed');
        let answer: string;
        if (query.msg_signature !== undefined) {
          // 企业微信/政务微信: echostr is encrypted and signed with the other parameters.
          answer = requireCrypt().verifyAndDecrypt(param(query, 'msg_signature'), timestamp, nonce, echostr);
        } else {
          checkPlainSignature(query, timestamp, nonce);
          answer = echostr;
        }
        checkTimestamp(timestamp);
        await checkNonce(nonce, timestamp, echostr);
        return answer;
      });
    },

    parse(request) {
      return attempt(async () => {
        const { query, body } = request;
        const timestamp = param(query, 'timestamp', TIMESTAMP);
        const nonce = param(query, 'nonce', NONCE);
        const encrypted = query.msg_signature !== undefined || query.encrypt_type === 'aes';
        assertSize(body, maxBytes);
        let fields: XmlFields;
        // What the signature vouches for in safe mode (Encrypt); in plain mode the whole body.
        let signed = body;
        if (encrypted) {
          const c = requireCrypt();
          const msgSignature = param(query, 'msg_signature');
          const outer = parseXml(body, { maxBytes });
          const encrypt = field(outer, 'Encrypt', maxBytes);
          c.verify(msgSignature, timestamp, nonce, encrypt);
          signed = encrypt;
          checkTimestamp(timestamp);
          fields = parseXml(c.decrypt(encrypt), { maxBytes });
        } else {
          if (!allowPlain) throw bad('ENCRYPTION_REQUIRED', 'this callback accepts 安全模式 (encrypted) pushes only');
          checkPlainSignature(query, timestamp, nonce);
          checkTimestamp(timestamp);
          fields = parseXml(body, { maxBytes });
        }
        const message = mapMessage(fields, { encrypted, nonce });
        await checkNonce(nonce, timestamp, signed);
        return message;
      });
    },

    reply(context, content) {
      const now = Math.floor(deps.now() / 1000);
      const xml = buildTextReplyXml(context, content, now);
      if (!context.encrypted) return xml;
      if (!crypt) throw new CityLoopError('WECHAT_CONFIG_INVALID', 'cannot encrypt a reply without a key', 500);
      return crypt.encryptReply(xml, String(now), context.nonce).xml;
    },
  };
}
