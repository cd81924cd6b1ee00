/**
 * The notify queue's messages: `OutboundMessage`s (`core/ports.ts`) the AWS outbox put there for the channel senders
 * (SMS and WeChat subscribe messages; email goes to SES directly). Pure: validates a queue body into a notice the
 * sender can act on, or says why it cannot (such a message fails alone and reaches the DLQ).
 */
import * as z from 'zod/mini';
import { CityLoopError } from '../errors.ts';

/** SNS sends SMS to E.164 numbers only (`+` country code, up to 15 digits). */
export const E164 = /^\+[1-9]\d{6,14}$/;
/** WeChat openids: 28 URL-safe characters in practice; kept loose but bounded. */
export const OPENID = /^[A-Za-z0-9_-]{6,64}$/;
/** Amazon SNS refuses SMS longer than 1600 characters (the text is split into parts up to that). */
export const SMS_MAX_CHARS = 1600;
const TEXT_MAX_CHARS = 4000;

const Base = {
  subject: z.optional(z.string().check(z.maxLength(500))),
  text: z.string().check(z.minLength(1), z.maxLength(TEXT_MAX_CHARS)),
  trackingNo: z.optional(z.string().check(z.maxLength(64))),
  caseId: z.optional(z.string().check(z.maxLength(128))),
  kind: z.string().check(z.minLength(1), z.maxLength(64)),
};

const Sms = z.object({
  channel: z.literal('sms'),
  to: z.string().check(z.regex(E164, 'to must be an E.164 phone number')),
  ...Base,
  text: z.string().check(z.minLength(1), z.maxLength(SMS_MAX_CHARS)),
});

const Wechat = z.object({
  channel: z.literal('wechat'),
  to: z.string().check(z.regex(OPENID, 'to must be an openid')),
  ...Base,
});

export type SmsNotice = z.infer<typeof Sms>;
export type WechatNotice = z.infer<typeof Wechat>;
export type Notice = SmsNotice | WechatNotice;

export type ParsedNotice = { ok: true; notice: Notice } | { ok: false; error: CityLoopError };

const invalid = (message: string): ParsedNotice => ({
  ok: false,
  error: new CityLoopError('INVALID_NOTICE', message, 400),
});

/** A notify-queue body → the notice, or `INVALID_NOTICE` (not JSON, unknown channel, bad recipient, no text). */
export function parseNotice(body: string): ParsedNotice {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return invalid('not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return invalid('not a JSON object');
  const channel = (json as { channel?: unknown }).channel;
  const schema = channel === 'sms' ? Sms : channel === 'wechat' ? Wechat : undefined;
  if (!schema) {
    // Email never travels this queue (SES sends it); anything else is not ours.
    return invalid(`channel ${JSON.stringify(channel)?.slice(0, 20) ?? 'undefined'} is not sent from the notify queue`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return invalid(`${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
  }
  return { ok: true, notice: parsed.data };
}
