/**
 * 分拨 (triage): from an accepted report to a case and the events that announce it.
 * Pure: the caller supplies the classifier and the store results; this decides.
 */
import type { Case, Classification, HistoryEntry } from '../case.ts';
import { reporterRef } from '../case.ts';
import { caseIdFor } from '../ids.ts';
import type { BusEvent, StoredReport } from '../ports.ts';
import { routeCase } from '../routing.ts';
import type { Category, Department } from '../taxonomy/types.ts';

export interface ClassifyInput {
  title?: string;
  text: string;
  categoryHint?: string;
}

export interface ClassifyResult {
  category?: string;
  confidence: number;
  label?: string;
  decision: 'auto' | 'manual';
  reason: string;
  alternatives?: { category?: string; label?: string; confidence: number }[];
}

export type Classify = (input: ClassifyInput) => ClassifyResult;

export interface TriageContext {
  classify: Classify;
  categories: ReadonlyMap<string, Category>;
  departments: Department[];
  now: string;
  /** Deadlines for a new case (the SLA engine); absent → no deadlines recorded. */
  deadlinesFor?: (c: Case, category: Category | undefined) => Record<string, unknown> | undefined;
}

const URGENT_POLICIES = new Set(['urgent-utility']);
const EMERGENCY_POLICIES = new Set(['emergency']);

/** The classifier's verdict on a report (triage classifies once: dedupe groups by it, `openCase` routes by it). */
export function classifyReport(report: StoredReport, ctx: Pick<TriageContext, 'classify'>): ClassifyResult {
  const r = report.request;
  return ctx.classify({ title: r.title, text: r.text, categoryHint: r.categoryHint });
}

/** Opens the case for a report that starts a new problem (dedupe said `new`). */
export function openCase(
  report: StoredReport,
  ctx: TriageContext,
  verdict: ClassifyResult = classifyReport(report, ctx),
): { case: Case; events: BusEvent[] } {
  const r = report.request;
  const category = verdict.category ? ctx.categories.get(verdict.category) : undefined;
  const route = routeCase(verdict.decision === 'auto' ? category : undefined, r.location, r.text, ctx.departments);
  const manual = route.decision === 'manual';
  const classification: Classification = {
    confidence: verdict.confidence,
    decision: manual ? 'manual' : 'auto',
    reason: manual ? `${verdict.reason}; ${route.reason}` : verdict.reason,
    ...(category ? { category: category.code, categoryName: category.name } : {}),
    ...(verdict.label ? { label: verdict.label } : {}),
  };
  const dept = ctx.departments.find((d) => d.id === route.department);
  const history: HistoryEntry[] = [
    {
      at: report.acceptedAt,
      actor: { role: 'system', id: r.enteredBy ?? r.channel },
      action: 'receive',
      to: 'received',
      text: `经${channelLabel(r.channel)}受理，受理编号 ${report.trackingNo}`,
      visibility: 'public',
    },
    manual
      ? {
          at: ctx.now,
          actor: { role: 'system', id: 'triage' },
          action: 'triageRequired',
          from: 'received',
          to: 'triage',
          reason: classification.reason,
          text: '转人工分拨',
          visibility: 'public',
        }
      : {
          at: ctx.now,
          actor: { role: 'system', id: 'triage' },
          action: 'dispatch',
          from: 'received',
          to: 'dispatched',
          reason: `${category?.name ?? ''} (${(verdict.confidence * 100).toFixed(0)}%, ${classification.reason})`,
          text: `已派单至${dept?.name ?? route.department}`,
          visibility: 'public',
        },
  ];
  const policy = category?.slaPolicy ?? 'standard';
  const c: Case = {
    caseId: caseIdFor(report.trackingNo),
    trackingNo: report.trackingNo,
    state: manual ? 'triage' : 'dispatched',
    version: 1,
    department: route.department,
    ...(classification.category ? { category: classification.category } : {}),
    nature: r.nature ?? '求助',
    urgency: EMERGENCY_POLICIES.has(policy) ? 'emergency' : URGENT_POLICIES.has(policy) ? 'urgent' : 'normal',
    channel: r.channel,
    title: r.title,
    text: r.text,
    ...(r.location ? { location: r.location } : {}),
    citizen: r.citizen,
    receivedAt: r.receivedAt,
    updatedAt: ctx.now,
    ...(manual ? {} : { dispatchedAt: ctx.now }),
    classification,
    reportCount: 1,
    reporters: [reporterRef(report.trackingNo, r, 'new')],
    announcedVersion: 0,
    history,
  };
  const deadlines = ctx.deadlinesFor?.(c, category);
  if (deadlines) c.deadlines = deadlines;
  return { case: c, events: [caseEvent(c, manual ? 'Case.TriageRequired' : 'Case.Dispatched', dept?.name)] };
}

/** The event announcing a case's current version. `eventId` is deterministic so consumers can drop redeliveries. */
export function caseEvent(c: Case, detailType: string, departmentName?: string): BusEvent {
  return {
    detailType,
    resources: [c.caseId],
    detail: {
      eventId: `${c.caseId}:${c.version}:${detailType}`,
      caseId: c.caseId,
      trackingNo: c.trackingNo,
      version: c.version,
      state: c.state,
      department: c.department,
      departmentName,
      category: c.category,
      categoryName: c.classification.categoryName,
      nature: c.nature,
      urgency: c.urgency,
      channel: c.channel,
      title: c.title,
      text: c.text,
      location: c.location,
      citizen: c.citizen,
      receivedAt: c.receivedAt,
      dispatchedAt: c.dispatchedAt,
      reportCount: c.reportCount,
      deadlines: c.deadlines,
      classification: c.classification,
    },
  };
}

export function channelLabel(channel: string): string {
  return (
    (
      { web: '网站', hotline: '12345热线', wechat: '微信', email: '电子邮件', open311: 'Open311 接口' } as Record<
        string,
        string
      >
    )[channel] ?? channel
  );
}
