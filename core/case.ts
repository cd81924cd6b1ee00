/**
 * The case (工单): what a department works on. A case is opened by one report and may grow with repeats (重复件)
 * and other citizens' reports of the same incident (并案). Every change is recorded in `history` (全要素留痕).
 *
 * States, roles and labels are those of the lifecycle machine (`core/lifecycle/`); the lifecycle fields of the
 * machine's `CaseSnapshot` (pending request, windows, counts, timestamps, follow-up result) are stored on the case,
 * optional because triage opens a case before any of them exists (`core/cases/mapping.ts` fills the defaults).
 */
import type { Channel, Citizen, IntakeRequest, Location, Nature } from './intake/schema.ts';
import type { AuditAction, CaseState, Satisfaction } from './lifecycle/states.ts';
import type { AuditRecord, CaseCounts, CaseTimestamps, PendingRequest, TimeWindows } from './lifecycle/types.ts';
import type { CaseMetricView } from './sla/metrics.ts';

export type { CaseState, Role } from './lifecycle/states.ts';
/** Staff-facing state labels (工作台); citizens read `PUBLIC_STATE_LABELS` (see `core/views/citizen.ts`). */
export { PUBLIC_STATE_LABELS, STATE_LABELS } from './lifecycle/states.ts';

/**
 * One trace record. Records written by the lifecycle are the machine's `AuditRecord` (with `version` and
 * `department`); records written by triage when it opens a case predate that shape and may lack both, and name the
 * manual-triage step `triageRequired` (the machine's `queueForTriage`).
 */
export type HistoryEntry = Omit<AuditRecord, 'version' | 'department' | 'action' | 'to'> & {
  action: AuditAction | 'triageRequired';
  to?: CaseState;
  /** The case version this entry produced; absent on triage's opening records. */
  version?: number;
  /** The department handling the case after this entry; absent on triage's opening records. */
  department?: string | null;
};

export interface ReporterRef {
  trackingNo: string;
  channel: Channel;
  receivedAt: string;
  relation: 'new' | 'repeat' | 'incident';
}

export interface Classification {
  category?: string;
  categoryName?: string;
  label?: string;
  confidence: number;
  decision: 'auto' | 'manual';
  reason: string;
}

export interface Case {
  caseId: string;
  /** Tracking number of the report that opened the case. */
  trackingNo: string;
  state: CaseState;
  /** Incremented by every change: the precondition of every conditional write. */
  version: number;
  department?: string;
  category?: string;
  nature: Nature;
  urgency: 'normal' | 'urgent' | 'emergency';
  channel: Channel;
  title: string;
  text: string;
  location?: Location;
  /** Contact of the first reporter (never shown to other citizens). */
  citizen: Citizen;
  receivedAt: string;
  updatedAt: string;
  dispatchedAt?: string;
  classification: Classification;
  reportCount: number;
  /** The first reporters (capped, to keep the item small); `reportCount` is the true total. */
  reporters: ReporterRef[];
  /** SLA deadlines, owned by the SLA engine. */
  deadlines?: Record<string, unknown>;
  /** Version whose event is on the bus; `announcedVersion < version` means an announcement is owed. */
  announcedVersion: number;
  /** Events owed for the current version (re-sent by the sweep if the bus call failed after the write). */
  pendingEvents?: { detailType: string; detail: Record<string, unknown>; resources?: string[] }[];
  history: HistoryEntry[];
  /**
   * 考核数据 still owed by this case (an outbox, like `announcedVersion`): the transitions written but not yet counted
   * into the daily aggregates, oldest first. Absent or empty: every version is counted. See `MetricsOwed`.
   */
  metricsOwed?: MetricsOwed[];

  // Lifecycle fields (the machine's snapshot), absent until the first lifecycle action.
  /** A return or extension request awaiting the supervisor. */
  pending?: PendingRequest | null;
  /** Time limits the machine checks (from the SLA engine); absent → derived from `deadlines`. */
  windows?: TimeWindows;
  counts?: CaseCounts;
  timestamps?: CaseTimestamps;
  /** Latest 回访 result. */
  satisfaction?: Satisfaction | null;
  resolvedFlag?: boolean | null;

  /** Free-form extension fields of later features. */
  [extra: string]: unknown;
}

/**
 * One transition owed to the daily aggregates: from the case as it stood at `version` (its metrics view; null for a new
 * case) to the next entry's view, or to the case as it stands when this is the last entry. It counts under the token
 * `<caseId>@<to>` (`to`: the version the transition wrote), fixed when it was owed, so a count retried after a partial
 * failure adds only what is missing on each aggregate item.
 */
export interface MetricsOwed {
  version: number;
  view: CaseMetricView | null;
  to: number;
}

/** Whether the case still owes the daily aggregates a transition (`metricsOwed`). */
export const owesMetrics = (c: Pick<Case, 'metricsOwed'>): boolean => (c.metricsOwed?.length ?? 0) > 0;

/** What a new case owes the daily aggregates: its creation (受理, and the deadlines it falls due on). */
export function oweCreation<C extends Case>(c: C): C {
  c.metricsOwed = [{ version: 0, view: null, to: c.version }];
  return c;
}

export const MAX_REPORTERS_INLINE = 50;

export function reporterRef(
  trackingNo: string,
  request: IntakeRequest,
  relation: ReporterRef['relation'],
): ReporterRef {
  return { trackingNo, channel: request.channel, receivedAt: request.receivedAt, relation };
}
