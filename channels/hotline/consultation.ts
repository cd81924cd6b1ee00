/**
 * 咨询 直接答复: a consultation the agent answered on the call is born concluded. The case is built in memory by the
 * lifecycle machine itself (`receiveCase`, then `applyAction(answer)`, as the machine documents for triage) and
 * written ONCE, already `answered`: there is never a stored case in `received` that nobody would dispatch if a
 * second write failed. Both steps' audit records are in the history (全要素留痕) and both events are owed on the case
 * (`pendingEvents`), so triage or the next step re-announces them if the bus call fails. Pure.
 */
import { type Case, type Classification, reporterRef } from '#core/case.ts';
import { applySnapshot, citizenRefOf } from '#core/cases/mapping.ts';
import type { CityLoopError } from '#core/errors.ts';
import { applyAction, receiveCase } from '#core/lifecycle/machine.ts';
import type { Actor, AuditRecord } from '#core/lifecycle/types.ts';
import type { BusEvent, StoredReport } from '#core/ports.ts';
import type { Category } from '#core/taxonomy/types.ts';
import { caseEvent, channelLabel } from '#core/triage/triage.ts';

export interface AnswerInput {
  report: StoredReport;
  answer: string;
  /** The agent (role `agent`). */
  actor: Actor;
  /** ISO 8601 with offset: when the answer was recorded. */
  now: string;
  /** The category the agent picked or the classifier was sure of. */
  category?: Category;
  /** How the category was chosen (agent / classifier). */
  categoryReason?: string;
  categoryConfidence?: number;
}

export type AnsweredCase =
  | { ok: true; case: Case; audit: AuditRecord; events: BusEvent[] }
  | { ok: false; error: CityLoopError };

/** Event detail as the service builds it: the case as it is now (triage keys) plus the lifecycle's transition. */
function eventOf(c: Case, detailType: string, lifecycle: Record<string, unknown>): BusEvent {
  const base = caseEvent(c, detailType);
  return { detailType, resources: [c.caseId], detail: { ...base.detail, ...lifecycle } };
}

export function answeredConsultation(input: AnswerInput): AnsweredCase {
  const { report, actor, now } = input;
  const r = report.request;
  const caseId = report.trackingNo as string;
  const received = receiveCase(
    {
      caseId,
      receivedAt: r.receivedAt,
      nature: '咨询',
      category: input.category?.code ?? null,
      citizenRef: citizenRefOf(r),
      deadlines: {},
    },
    actor,
  );
  if (!received.ok) return received;
  const classification: Classification = input.category
    ? {
        category: input.category.code,
        categoryName: input.category.name,
        confidence: input.categoryConfidence ?? 1,
        decision: 'manual',
        reason: input.categoryReason ?? '话务员选择 chosen by the agent',
      }
    : { confidence: 0, decision: 'manual', reason: '热线直接答复，未分类 answered on the call, not classified' };
  const receiveAudit: AuditRecord = {
    ...received.audit,
    text: `经${channelLabel(r.channel)}受理，受理编号 ${report.trackingNo}`,
  };
  const opened: Case = {
    caseId,
    trackingNo: report.trackingNo,
    state: 'received',
    version: 1,
    ...(input.category ? { category: input.category.code } : {}),
    nature: '咨询',
    urgency: 'normal',
    channel: r.channel,
    title: r.title,
    text: r.text,
    ...(r.location ? { location: r.location } : {}),
    citizen: r.citizen,
    receivedAt: r.receivedAt,
    updatedAt: received.audit.at,
    classification,
    reportCount: 1,
    reporters: [reporterRef(report.trackingNo, r, 'new')],
    announcedVersion: 0,
    history: [receiveAudit],
    pending: received.next.pending,
    windows: received.next.windows,
    counts: received.next.counts,
    timestamps: received.next.timestamps,
    satisfaction: null,
    resolvedFlag: null,
  };
  const answered = applyAction(received.next, { type: 'answer', text: input.answer }, actor, now);
  if (!answered.ok) return answered;
  const next = applySnapshot(opened, answered.next, answered.audit);
  const events = [
    eventOf(opened, received.event.detailType, received.event.detail as unknown as Record<string, unknown>),
    eventOf(next, answered.event.detailType, answered.event.detail as unknown as Record<string, unknown>),
  ];
  next.pendingEvents = events;
  next.announcedVersion = 0;
  return { ok: true, case: next, audit: answered.audit, events };
}
