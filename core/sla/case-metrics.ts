/**
 * 考核评价 on the stored case: the metrics view of a `Case` and the aggregate ADDs of one transition, applied through
 * a small port (`AggregateSink`, implemented by `DynamoStore.addToAggregates`).
 *
 * Who calls it: triage for every case it creates (before: null), and the lifecycle service after every accepted,
 * written step (`recordCaseMetrics(store, before, after)`). The token `<caseId>@<version>` makes each transition
 * count once even when a handler retries: the store skips an aggregate item that already holds the token.
 */
import { defaultCalendar } from '../calendar/default.ts';
import type { WorkingCalendar } from '../calendar/working-calendar.ts';
import type { Case } from '../case.ts';
import type { CaseStore, PutCaseResult } from '../ports.ts';
import { findStreet } from '../routing.ts';
import { defaultDepartments } from '../taxonomy/defaults.ts';
import type { Department } from '../taxonomy/types.ts';
import { asSlaRecord } from './deadlines.ts';
import { type AggregateDelta, type CaseMetricView, transitionDeltas } from './metrics.ts';

/** The port the store implements: atomic ADDs per aggregate item, each transition counted once per item. */
export interface AggregateSink {
  addToAggregates(deltas: readonly AggregateDelta[], token?: string): Promise<{ applied: number; skipped: number }>;
}

export interface CaseMetricsContext {
  calendar: WorkingCalendar;
  /** For the street dimension (属地街道). */
  departments: readonly Department[];
}

export function defaultMetricsContext(): CaseMetricsContext {
  return { calendar: defaultCalendar(), departments: defaultDepartments };
}

/**
 * The street (属地街道) a case belongs to: its department when that is a street office, else the street office whose
 * places appear in the location or the text (the same matching as 属地 routing), else null.
 */
export function streetOf(c: Pick<Case, 'department' | 'location' | 'text'>, departments: readonly Department[]) {
  const own = departments.find((d) => d.id === c.department);
  if (own?.kind === 'street') return own.id;
  return findStreet(departments as Department[], c.location, c.text ?? '')?.id ?? null;
}

/** The latest 回访 of the case (its instant), from the trace. */
function lastFollowUpAt(c: Pick<Case, 'history'>): string | null {
  const h = c.history ?? [];
  for (let i = h.length - 1; i >= 0; i--) if (h[i]?.action === 'recordFollowUp') return h[i]?.at ?? null;
  return null;
}

/** What the metrics count of a stored case (see `CaseMetricView`). */
export function caseMetricView(c: Case, ctx: Pick<CaseMetricsContext, 'departments'>): CaseMetricView {
  const record = asSlaRecord(c.deadlines);
  const ts = c.timestamps;
  const dispatchedAt = ts ? ts.dispatchedAt : (c.dispatchedAt ?? null);
  // Sign and contact are department clocks: due only once the case reached a department.
  const departmentClock = dispatchedAt !== null && record !== undefined;
  return {
    department: c.department ?? null,
    category: c.category ?? null,
    street: streetOf(c, ctx.departments),
    channel: c.channel ?? null,
    receivedAt: c.receivedAt,
    excluded: c.state === 'rejected',
    signDue: departmentClock ? record.signDue : null,
    signedAt: ts?.signedAt ?? null,
    contactDue: departmentClock ? record.contactDue : null,
    firstContactAt: ts?.firstContactAt ?? null,
    resolveDue: record?.resolveDue ?? c.windows?.dueAt ?? null,
    resolvedAt: ts?.resolvedAt ?? null,
    closedAt: ts?.closedAt ?? null,
    reopenCount: c.counts?.reopenCount ?? 0,
    followUpAt: c.satisfaction != null || c.resolvedFlag != null ? lastFollowUpAt(c) : null,
    satisfaction: c.satisfaction ?? null,
    resolvedFlag: c.resolvedFlag ?? null,
  };
}

/** The aggregate ADDs of one transition of a case (before null: a new case; after null: withdrawn). */
export function caseTransitionDeltas(
  before: Case | null,
  after: Case | null,
  ctx: CaseMetricsContext = defaultMetricsContext(),
): AggregateDelta[] {
  return transitionDeltas(
    {
      before: before ? caseMetricView(before, ctx) : null,
      after: after ? caseMetricView(after, ctx) : null,
    },
    { calendar: ctx.calendar },
  );
}

/** The once-only token of a transition: the case and the version it produced. */
export function metricsToken(
  before: Pick<Case, 'caseId' | 'version'> | null,
  after: Pick<Case, 'caseId' | 'version'> | null,
) {
  if (after) return `${after.caseId}@${after.version}`;
  return before ? `${before.caseId}@${before.version}-` : '';
}

/**
 * Applies the metrics of one written transition: computes the deltas and ADDs them through `sink`. Call it after the
 * conditional write of `after` succeeded. Returns how many aggregate items changed.
 */
export async function recordCaseMetrics(
  sink: AggregateSink,
  before: Case | null,
  after: Case | null,
  ctx: CaseMetricsContext = defaultMetricsContext(),
): Promise<number> {
  const deltas = caseTransitionDeltas(before, after, ctx);
  if (deltas.length === 0) return 0;
  const r = await sink.addToAggregates(deltas, metricsToken(before, after));
  return r.applied;
}

/**
 * A CaseStore that remembers the cases it created (triage's `createCase` returns only `created`), so the caller can
 * count them once the batch is written. With `replayed`, also the cases a redelivered batch found already written and
 * still as they were created (same version): the first attempt may have stopped between the case write and its
 * counts (a crash, a timeout), and counting them again under the same token (`<caseId>@<version>`) adds only what is
 * missing. A case that moved on since is not in it: its creation snapshot is gone (`cityloop verify --metrics`
 * recounts such items).
 */
export function recordingCreations(store: CaseStore, created: Case[], replayed?: Case[]): CaseStore {
  return {
    createCase: async (c: Case): Promise<PutCaseResult> => {
      const r = await store.createCase(c);
      if (r.created) created.push(c);
      else if (replayed && r.existing.version === c.version && r.existing.caseId === c.caseId) {
        replayed.push(r.existing);
      }
      return r;
    },
    getCase: (id) => store.getCase(id),
    replaceCase: (c, v) => store.replaceCase(c, v),
    markAnnounced: (id, v) => store.markAnnounced(id, v),
    listDepartmentCases: (d, o) => store.listDepartmentCases(d, o),
  };
}
