/**
 * What staff (department, supervisor) see of a case: the list row and the full case with the citizen's contact,
 * the complete trace (internal steps included) and the actions the caller may take now.
 */
import type { Case, Classification, ReporterRef } from '../case.ts';
import { auditTrail, toSnapshot, windowsOf } from '../cases/mapping.ts';
import type { Citizen, Location } from '../intake/schema.ts';
import { stateLabel } from '../lifecycle/history.ts';
import { allowedActions } from '../lifecycle/machine.ts';
import type { ActionType, CaseState } from '../lifecycle/states.ts';
import type {
  Actor,
  AuditRecord,
  CaseCounts,
  CaseTimestamps,
  PendingRequest,
  TimeWindows,
} from '../lifecycle/types.ts';

export interface CaseSummary {
  caseId: string;
  trackingNo: string;
  version: number;
  state: CaseState;
  /** e.g. 签收（延期申请中）. */
  stateLabel: string;
  department: string | null;
  departmentName: string | null;
  category: string | null;
  categoryName: string | null;
  nature: string;
  urgency: string;
  title: string;
  receivedAt: string;
  dispatchedAt: string | null;
  /** 办理时限 now in force (null: not known). */
  dueAt: string | null;
  pending: PendingRequest['kind'] | null;
  reportCount: number;
  updatedAt: string;
}

export interface CaseDetail extends CaseSummary {
  text: string;
  channel: string;
  location: Location | null;
  /** The citizen's contact, for 先行联系. */
  citizen: Citizen;
  classification: Classification;
  reporters: ReporterRef[];
  pendingRequest: PendingRequest | null;
  windows: TimeWindows;
  counts: CaseCounts;
  timestamps: CaseTimestamps;
  satisfaction: string | null;
  resolvedFlag: boolean | null;
  deadlines: Record<string, unknown> | null;
  history: AuditRecord[];
  /** Actions the caller may take in this state (payload checks still apply). */
  allowedActions: ActionType[];
}

/** One 现场照片 of a case as staff see it (`GET /api/cases/{caseId}/photos`), with a short-lived view link. */
export interface CasePhoto {
  name: string;
  contentType: string;
  size: number;
  /** Where it came from: the report (with its tracking number) or a step on the case (市民补充, 办结反馈 ...). */
  source: 'report' | 'step';
  trackingNo?: string;
  action?: string;
  at: string;
  url?: string;
}

export function caseSummary(c: Case, departmentName: (id: string) => string | undefined): CaseSummary {
  const snapshot = toSnapshot(c);
  return {
    caseId: c.caseId,
    trackingNo: c.trackingNo,
    version: c.version,
    state: c.state,
    stateLabel: stateLabel(snapshot),
    department: c.department ?? null,
    departmentName: c.department ? (departmentName(c.department) ?? null) : null,
    category: c.category ?? null,
    categoryName: c.classification?.categoryName ?? null,
    nature: c.nature,
    urgency: c.urgency,
    title: c.title,
    receivedAt: c.receivedAt,
    dispatchedAt: c.dispatchedAt ?? null,
    dueAt: windowsOf(c).dueAt,
    pending: c.pending?.kind ?? null,
    reportCount: c.reportCount,
    updatedAt: c.updatedAt,
  };
}

export function caseDetail(
  c: Case,
  actor: Actor,
  now: string,
  departmentName: (id: string) => string | undefined,
): CaseDetail {
  const snapshot = toSnapshot(c);
  return {
    ...caseSummary(c, departmentName),
    text: c.text,
    channel: c.channel,
    location: c.location ?? null,
    citizen: c.citizen,
    classification: c.classification,
    reporters: c.reporters,
    pendingRequest: snapshot.pending,
    windows: snapshot.windows,
    counts: snapshot.counts,
    timestamps: snapshot.timestamps,
    satisfaction: snapshot.satisfaction,
    resolvedFlag: snapshot.resolvedFlag,
    deadlines: c.deadlines ?? null,
    history: auditTrail(c),
    allowedActions: allowedActions(snapshot, actor, now),
  };
}
