/**
 * The actions one may apply to a case, as one zod/mini schema: APIs parse request bodies with it.
 * Fields a step needs (reason, text, department ...) are optional here on purpose: the machine checks them after
 * authorization and answers with a precise code (REASON_REQUIRED, DEPARTMENT_REQUIRED ...) instead of a generic
 * shape error, and without telling a caller who may not act on the case what the case would have needed.
 */
import * as z from 'zod/mini';
import { Attachment, LIMITS } from '#core/intake/schema.ts';
import { SATISFACTION } from './states.ts';
import { CODE_MAX, REASON_MAX } from './types.ts';

// Trimmed before the length check, so "  " counts as missing and stored words carry no stray blanks.
const reason = z.optional(z.string().check(z.trim(), z.maxLength(REASON_MAX)));
const text = z.optional(z.string().check(z.trim(), z.maxLength(LIMITS.text)));
const code = z.optional(z.string().check(z.trim(), z.maxLength(CODE_MAX)));
const attachments = z.optional(z.array(Attachment).check(z.maxLength(LIMITS.attachments)));

export const ActionSchema = z.discriminatedUnion('type', [
  /** 派单: system after automatic triage, or a supervisor. */
  z.object({ type: z.literal('dispatch'), department: code, category: code }),
  /** 转人工分拨: the classifier could not decide. */
  z.object({ type: z.literal('queueForTriage'), reason }),
  /** 人工分拨: a supervisor picks category and department from the triage queue. */
  z.object({ type: z.literal('assignTriage'), department: code, category: code }),
  /** 不予受理. */
  z.object({ type: z.literal('reject'), reason }),
  /** 咨询 直接答复: consultations only. */
  z.object({ type: z.literal('answer'), text, attachments }),
  z.object({ type: z.literal('sign'), text }),
  /** 先行联系: the first one sets `firstContactAt`. `text`: how and what was agreed. */
  z.object({ type: z.literal('contact'), text }),
  z.object({ type: z.literal('requestReturn'), reason, attachments }),
  /** 退单审核通过 → 改派 to another department. */
  z.object({ type: z.literal('approveReturn'), department: code, category: code, reason }),
  z.object({ type: z.literal('rejectReturn'), reason }),
  /** 改派 without a return request (wrong category seen by the centre). */
  z.object({ type: z.literal('redispatch'), department: code, category: code, reason }),
  z.object({
    type: z.literal('requestExtension'),
    reason,
    /** Requested new due instant, ISO 8601 with offset. */
    newDueAt: z.optional(z.iso.datetime({ offset: true })),
  }),
  z.object({ type: z.literal('approveExtension'), reason }),
  z.object({ type: z.literal('rejectExtension'), reason }),
  /** 办结反馈: the result text goes to the citizen. */
  z.object({ type: z.literal('resolve'), text, attachments }),
  z.object({ type: z.literal('approveClosure'), text }),
  z.object({ type: z.literal('rejectClosure'), reason }),
  /** 回访: not satisfied or not resolved → 重办 (back to the same department). */
  z.object({
    type: z.literal('recordFollowUp'),
    satisfaction: z.optional(z.enum(SATISFACTION)),
    resolved: z.optional(z.boolean()),
    text,
  }),
  /** 重办: a citizen repeats a closed case, or the centre reopens it. */
  z.object({ type: z.literal('reopen'), reason }),
  z.object({ type: z.literal('archive') }),
  z.object({
    type: z.literal('addNote'),
    text,
    attachments,
    /** Default internal (内部备注); public notes show in the citizen's history. */
    visibility: z.optional(z.enum(['internal', 'public'])),
  }),
  /** 市民补充: more information from the citizen (or typed by an agent on the phone). */
  z.object({ type: z.literal('citizenUpdate'), text, attachments }),
]);
export type Action = z.infer<typeof ActionSchema>;
export type ActionOf<T extends Action['type']> = Extract<Action, { type: T }>;
