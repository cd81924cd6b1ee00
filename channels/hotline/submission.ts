/**
 * An agent's submission (话务员录入) → an `IntakeRequest` draft of channel `hotline`. Pure.
 *
 * The idempotency key (`channelMessageId`) says where the request came from, so a double click, a retry or a re-run
 * of an import never makes a second report:
 * - a call:     `<contactId>#<seq>`                 (seq 1, 2 ... when one call carries several requests)
 * - a walk-in:  `walkin:<agent id>:<client uuid>`  (the console makes the uuid per form; the agent id comes from the
 *                                                    credential, so two agents can never collide)
 * - a letter:   `letter:<ref>`                     (the letter's registration number: the same letter entered twice,
 *                                                    by anyone, is one report)
 * On a call the caller's number comes from telephony (the call record), never from typing: a typed number is used
 * only when telephony had none (withheld number, or no record for the contact).
 */
import * as z from 'zod/mini';
import { CityLoopError } from '#core/errors.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { cleanLine, type IntakeDraft, toHalfWidth } from '#core/intake/normalize.ts';
import { LIMITS, NATURES } from '#core/intake/schema.ts';
import type { CallRecord } from './call-record.ts';
import { CONTACT_ID_PATTERN } from './connect.ts';

export const SOURCES = ['call', 'walkin', 'letter'] as const;
export type Source = (typeof SOURCES)[number];

export const SOURCE_LABELS: Readonly<Record<Source, string>> = { call: '来电', walkin: '来访', letter: '来信' };

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_SEQ = 999;
export const REF_MAX = 64;

/** A letter may be entered this long after it arrived; older dates are a typing error. */
const MAX_LETTER_AGE_MS = 366 * 86_400_000;
/** Clock skew between the console and us. */
const FUTURE_SLACK_MS = 5 * 60_000;

const seq = z.union([z.number().check(z.int(), z.gte(1), z.lte(MAX_SEQ)), z.string().check(z.regex(/^[1-9]\d{0,2}$/))]);

/** The envelope of a submission; content fields (citizen, title, text, location ...) are checked by `normalizeIntake`. */
export const AgentSubmission = z.object({
  source: z.optional(z.enum(SOURCES)),
  contactId: z.optional(z.string().check(z.regex(CONTACT_ID_PATTERN))),
  seq: z.optional(seq),
  clientId: z.optional(z.string().check(z.regex(UUID_PATTERN))),
  ref: z.optional(z.string().check(z.minLength(1), z.maxLength(REF_MAX * 2))),
  citizen: z.optional(z.record(z.string(), z.unknown())),
  title: z.optional(z.string()),
  text: z.optional(z.string()),
  location: z.optional(z.record(z.string(), z.unknown())),
  nature: z.optional(z.enum(NATURES)),
  /** 事项清单 code the agent picked (a hint; triage still validates it). */
  category: z.optional(z.string().check(z.maxLength(64))),
  /** Letters: the date (YYYY-MM-DD) or instant the letter arrived. Ignored for calls and walk-ins. */
  receivedAt: z.optional(z.string().check(z.maxLength(40))),
  /** 直接答复: the answer given on the call; only for a consultation (咨询). Closes the case at once. */
  answer: z.optional(z.string().check(z.maxLength(LIMITS.text))),
});
export type AgentSubmission = z.infer<typeof AgentSubmission>;

export interface SubmissionOrigin {
  source: Source;
  channelMessageId: string;
  contactId?: string;
  seq?: number;
}

export function invalid(code: string, message: string, details?: unknown): CityLoopError {
  return new CityLoopError(code, message, 400, details);
}

export function parseSubmission(body: unknown): AgentSubmission {
  const parsed = AgentSubmission.safeParse(body);
  if (!parsed.success) {
    throw invalid('VALIDATION_FAILED', '录入内容格式错误 the submission is malformed', {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return parsed.data;
}

/** A letter reference as typed: half-width, one line, at most 64 characters. */
export function cleanRef(raw: string): string {
  const ref = cleanLine(toHalfWidth(raw));
  if (ref === '' || [...ref].length > REF_MAX) {
    throw invalid(
      'INVALID_REF',
      `来信编号须为 1-${REF_MAX} 个字符 the letter reference must be 1-${REF_MAX} characters`,
    );
  }
  return ref;
}

/** Where the submission came from and its idempotency key. */
export function originOf(s: AgentSubmission, agentId: string): SubmissionOrigin {
  const source: Source | undefined =
    s.source ?? (s.contactId ? 'call' : s.ref ? 'letter' : s.clientId ? 'walkin' : undefined);
  switch (source) {
    case 'call': {
      if (!s.contactId) throw invalid('CONTACT_ID_REQUIRED', '来电录入需要 contactId a call needs its contact id');
      const n = s.seq === undefined ? 1 : Number(s.seq);
      return { source, contactId: s.contactId, seq: n, channelMessageId: `${s.contactId}#${n}` };
    }
    case 'walkin':
      if (!s.clientId)
        throw invalid('CLIENT_ID_REQUIRED', '来访录入需要 clientId (UUID) a walk-in needs a client uuid');
      return { source, channelMessageId: `walkin:${agentId}:${s.clientId.toLowerCase()}` };
    case 'letter':
      if (!s.ref) throw invalid('REF_REQUIRED', '来信录入需要来信编号 ref a letter needs its reference');
      return { source, channelMessageId: `letter:${cleanRef(s.ref)}` };
    default:
      throw invalid(
        'SOURCE_REQUIRED',
        '请说明来源：来电 contactId、来访 clientId 或来信 ref  say where it came from: contactId, clientId or ref',
      );
  }
}

/** `2025-11-20` (a day in Asia/Shanghai) or an ISO instant with offset. */
export function parseLetterDate(raw: string, now: Date): string {
  const s = toHalfWidth(raw).trim().replace(/[/.]/g, '-');
  const day = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  let iso: string | undefined;
  if (day) {
    const [, y, m, d] = day;
    iso = `${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}T00:00:00+08:00`;
    // Reject 2025-02-30 and the like: the date must survive a round trip.
    const check = new Date(iso);
    if (Number.isNaN(check.getTime()) || toShanghaiIso(check).slice(0, 10) !== iso.slice(0, 10)) iso = undefined;
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    iso = Number.isNaN(new Date(s).getTime()) ? undefined : toShanghaiIso(new Date(s));
  }
  if (!iso) throw invalid('INVALID_RECEIVED_AT', `收件日期无效 invalid date: ${raw.slice(0, 40)}`);
  const at = new Date(iso).getTime();
  if (at > now.getTime() + FUTURE_SLACK_MS) {
    throw invalid('INVALID_RECEIVED_AT', `收件日期在将来 the date is in the future: ${raw.slice(0, 40)}`);
  }
  if (at < now.getTime() - MAX_LETTER_AGE_MS) {
    throw invalid('INVALID_RECEIVED_AT', `收件日期早于一年前 the date is more than a year ago: ${raw.slice(0, 40)}`);
  }
  return iso;
}

export type CallerFrom = 'telephony' | 'typed' | 'none';

export interface DraftContext {
  agentId: string;
  now: Date;
  /** The call record of a call submission, when Connect recorded the contact. */
  call?: CallRecord;
}

/** The `IntakeRequest` draft (cleaned and validated next by `normalizeIntake`). */
export function agentDraft(
  s: AgentSubmission,
  origin: SubmissionOrigin,
  ctx: DraftContext,
): { draft: IntakeDraft; callerFrom: CallerFrom } {
  const citizen: Record<string, unknown> = {};
  for (const k of ['name', 'phone', 'email'] as const) {
    const v = s.citizen?.[k];
    if (typeof v === 'string' && v.trim() !== '') citizen[k] = v;
  }
  const anonymous = s.citizen?.anonymous;
  if (anonymous === true || anonymous === 'true') citizen.anonymous = true;
  let callerFrom: CallerFrom = citizen.phone ? 'typed' : 'none';
  if (origin.source === 'call' && ctx.call?.callerPhone) {
    citizen.phone = ctx.call.callerPhone;
    callerFrom = 'telephony';
  }
  const receivedAt =
    origin.source === 'letter' && s.receivedAt
      ? parseLetterDate(s.receivedAt, ctx.now)
      : origin.source === 'call' && ctx.call
        ? ctx.call.firstSeenAt
        : toShanghaiIso(ctx.now);
  const draft: IntakeDraft = {
    channel: 'hotline',
    channelMessageId: origin.channelMessageId,
    receivedAt,
    citizen,
    ...(s.title !== undefined ? { title: s.title } : {}),
    text: s.text,
    ...(s.location && Object.keys(s.location).length ? { location: s.location } : {}),
    ...(s.nature ? { nature: s.nature } : {}),
    ...(s.category ? { categoryHint: s.category } : {}),
    language: 'zh-CN',
    enteredBy: ctx.agentId,
  };
  return { draft, callerFrom };
}
