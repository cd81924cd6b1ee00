/**
 * 考核评价 on the stored case: the metrics view of a `Case` and the aggregate ADDs of its transitions, applied through
 * small ports (`AggregateSink`, `TransitionSink`, implemented by `DynamoStore`).
 *
 * The counts are an outbox on the case, like its announcement: a writer records on the case it writes the transition
 * it owes (`oweCreation` for a new case, `oweTransition` for a step), counts it after the write (`countOwed`), then
 * drops it (`CaseStore.markSettled(…, { counted: true })`). Whoever meets a case that still owes (a count failed, the
 * function stopped) counts it: the next step, triage on a redelivered report, the sweep, `cityloop verify --repair`.
 * The token `<caseId>@<version>` of each transition makes it count once on each aggregate item whoever counts it and
 * however often: the store keeps on each item the highest version it counted per case, and a case's transitions are
 * counted in version order, so it skips an item that already counted that version or a later one.
 */
import { defaultCalendar } from '../calendar/default.ts';
import type { WorkingCalendar } from '../calendar/working-calendar.ts';
import type { Case, MetricsOwed } from '../case.ts';
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

/** Several transitions at once, one update per aggregate item (`DynamoStore.addTransitionsToAggregates`). */
export interface TransitionSink {
  addTransitionsToAggregates(
    transitions: readonly { deltas: readonly AggregateDelta[]; token: string }[],
  ): Promise<{ applied: number; skipped: number }>;
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
 * The daily aggregates as a writer of cases sees them: each write owes its transition on the written case (an outbox,
 * like the announcement), counts it after the write, and drops it once counted (`CaseStore.markSettled`). A count
 * that fails stays owed and is made by whoever meets the case next. Wired with `oweTransition` and `countOwed`.
 */
export interface CaseMetricsPort {
  /** Records on `after`, before it is written, the transition it owes (`oweTransition`). */
  owe(before: Case, after: Case): void;
  /** Counts everything the written case owes (`countOwed`); throws when the store failed. */
  count(c: Case): Promise<void>;
}

/** The port on a store (`DynamoStore`). */
export function caseMetricsPort(
  sink: TransitionSink,
  ctx: CaseMetricsContext = defaultMetricsContext(),
): CaseMetricsPort {
  return {
    owe: (before, after) => oweTransition(before, after, ctx),
    count: (c) => countOwed(sink, [c], ctx),
  };
}

/**
 * The transition `before → after` that `after` owes the aggregates, appended to what `before` still owed (call it on
 * `after` before writing it; `countOwed` after the write). Each entry keeps the view it counts from, so the count can
 * be made later by whoever meets the case (the next step, the sweep, a redelivered report, `cityloop verify
 * --repair`), even after other writes moved the case on.
 */
export function oweTransition(before: Case, after: Case, ctx: CaseMetricsContext = defaultMetricsContext()): void {
  const entry: MetricsOwed = { version: before.version, view: caseMetricView(before, ctx), to: after.version };
  after.metricsOwed = [...(before.metricsOwed ?? []), entry];
}

/**
 * The transitions a case owes, oldest first: each from its entry's view to the next entry's view, the last one to the
 * case as it stands, under the token fixed when it was owed.
 */
export function owedTransitions(
  c: Case,
  ctx: CaseMetricsContext = defaultMetricsContext(),
): { deltas: AggregateDelta[]; token: string }[] {
  const owed = c.metricsOwed ?? [];
  if (owed.length === 0) return [];
  const now = caseMetricView(c, ctx);
  return owed.map((o, i) => ({
    deltas: transitionDeltas({ before: o.view, after: owed[i + 1]?.view ?? now }, { calendar: ctx.calendar }),
    token: `${c.caseId}@${o.to}`,
  }));
}

/**
 * Counts what the cases owe, in one call (one update per aggregate item). Throws when the store failed: the cases keep
 * what they owe, and counting again adds only what is missing (the tokens). After it resolves, mark each case counted
 * (`CaseStore.markSettled(…, { counted: true })`).
 */
export async function countOwed(
  sink: TransitionSink,
  cases: readonly Case[],
  ctx: CaseMetricsContext = defaultMetricsContext(),
): Promise<void> {
  const transitions = cases.flatMap((c) => owedTransitions(c, ctx)).filter((t) => t.deltas.length > 0);
  if (transitions.length > 0) await sink.addTransitionsToAggregates(transitions);
}

/**
 * A CaseStore that remembers the cases it created (triage's `createCase` returns only `created`), so the caller can
 * tell their citizens once the batch is written.
 */
export function recordingCreations(store: CaseStore, created: Case[]): CaseStore {
  return {
    createCase: async (c: Case): Promise<PutCaseResult> => {
      const r = await store.createCase(c);
      if (r.created) created.push(c);
      return r;
    },
    getCase: (id) => store.getCase(id),
    replaceCase: (c, v) => store.replaceCase(c, v),
    markAnnounced: (id, v) => store.markAnnounced(id, v),
    markSettled: (id, v, settled) => store.markSettled(id, v, settled),
    listDepartmentCases: (d, o) => store.listDepartmentCases(d, o),
  };
}
