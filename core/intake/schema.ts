/**
 * The one form: every channel turns its native input into an `IntakeRequest`.
 * zod/mini keeps Lambda bundles small (the classic API drags ~450 kB of locales in).
 * The JSON Schema in `docs/intake-request.schema.json` is generated from this file (`npm run schema`).
 */
import * as z from 'zod/mini';

export const CHANNELS = ['web', 'hotline', 'wechat', 'email', 'open311'] as const;
export type Channel = (typeof CHANNELS)[number];

/** 诉求性质: the nature axis, kept apart from the subject category. */
export const NATURES = ['咨询', '求助', '投诉', '举报', '建议'] as const;
export type Nature = (typeof NATURES)[number];

export const LIMITS = {
  title: 100,
  text: 4000,
  name: 50,
  address: 200,
  attachments: 9,
  channelMessageId: 200,
} as const;

export const Citizen = z.object({
  name: z.optional(z.string().check(z.maxLength(LIMITS.name))),
  /** E.164 after normalization, e.g. +8613800138000. */
  phone: z.optional(z.string().check(z.maxLength(32))),
  email: z.optional(z.string().check(z.maxLength(254))),
  openid: z.optional(z.string().check(z.maxLength(128))),
  anonymous: z.optional(z.boolean()),
});
export type Citizen = z.infer<typeof Citizen>;

export const Location = z.object({
  address: z.optional(z.string().check(z.maxLength(LIMITS.address))),
  lat: z.optional(z.number().check(z.gte(-90), z.lte(90))),
  lon: z.optional(z.number().check(z.gte(-180), z.lte(180))),
  /** Datum of lat/lon as received: WeChat gives GCJ-02, browsers and Open311 WGS-84. */
  datum: z.optional(z.enum(['WGS84', 'GCJ02'])),
  district: z.optional(z.string().check(z.maxLength(50))),
  street: z.optional(z.string().check(z.maxLength(50))),
});
export type Location = z.infer<typeof Location>;

export const Attachment = z.object({
  name: z.string().check(z.maxLength(255)),
  contentType: z.string().check(z.maxLength(255)),
  size: z.number().check(z.int(), z.gte(0)),
  /** Where the bytes are kept (S3 key on AWS, file under the data dir locally). */
  storageKey: z.string().check(z.maxLength(1024)),
});
export type Attachment = z.infer<typeof Attachment>;

export const IntakeRequest = z
  .object({
    channel: z.enum(CHANNELS),
    /** The channel's own id for this submission (WeChat MsgId, Message-ID, contact id + seq ...): the idempotency key. */
    channelMessageId: z.string().check(z.minLength(1), z.maxLength(LIMITS.channelMessageId)),
    /** ISO 8601 with an offset or Z. */
    receivedAt: z.iso.datetime({ offset: true }),
    citizen: Citizen,
    title: z.string().check(z.minLength(1), z.maxLength(LIMITS.title)),
    text: z.string().check(z.minLength(1), z.maxLength(LIMITS.text)),
    location: z.optional(Location),
    attachments: z.optional(z.array(Attachment).check(z.maxLength(LIMITS.attachments))),
    nature: z.optional(z.enum(NATURES)),
    /** BCP 47, e.g. zh-CN, en. */
    language: z.optional(z.string().check(z.maxLength(16))),
    /** Suggested category code (事项清单) from the channel, e.g. an Open311 service_code: a hint, still validated. */
    categoryHint: z.optional(z.string().check(z.maxLength(64))),
    /** Storage key of the raw input as received (MIME, XML, JSON). */
    rawKey: z.optional(z.string().check(z.maxLength(1024))),
    /** Who typed it in, for agent-entered requests (hotline, walk-in, letter). */
    enteredBy: z.optional(z.string().check(z.maxLength(64))),
  })
  .check(
    z.refine((r) => Boolean(r.citizen.anonymous || r.citizen.phone || r.citizen.email || r.citizen.openid), {
      message: 'citizen needs a phone, email or openid, or anonymous: true',
      path: ['citizen'],
    }),
  );
export type IntakeRequest = z.infer<typeof IntakeRequest>;
