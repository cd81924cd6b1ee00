/**
 * The triage step for a batch of accepted reports, against the ports. At-least-once: a report may come again
 * (SQS redelivery, a resubmission, a DLQ redrive). The case write is conditional, and the announcement is owed until
 * `announcedVersion` catches up with `version`, so a redelivered report re-sends only what was not yet announced.
 * Guarantee: every accepted report ends on exactly one case; each case version is announced at least once, with a
 * deterministic `eventId` for consumers to drop the rare repeat (a crash between the bus call and markAnnounced).
 *
 * With dedupe (`deps.dedupe`), each report is classified once and given to the engine before any case is opened:
 * - `new`: the report opens its case (as without dedupe): `Case.Dispatched` / `Case.TriageRequired`;
 * - `resubmission` (the same citizen sent the same text again within minutes, under another id): the report is
 *   linked to the first one's case; nothing is announced but what that case still owes;
 * - `repeat` 重复件 / `incident` 并案: the report joins the case (`mergeIntoCase`: ONE conditional write, re-read and
 *   re-applied on a lost race), is linked to it, and the department gets NO new message; `Case.IncidentGrew` is
 *   announced when the distinct reporters cross a growth threshold. A repeat of a closed case asks the lifecycle
 *   for 重办 (`reopen`, as the citizen who filed it); when that is not possible the need stays on the case history.
 * Two triage workers racing on one incident end on one case: that is the engine's claim protocol (core/dedupe/store.ts).
 */
import { type Case, oweCreation, owesMetrics } from '../case.ts';
import { citizenRefOf } from '../cases/mapping.ts';
import type { DedupeEngine, DedupeResult } from '../dedupe/engine.ts';
import { caseIdFor } from '../ids.ts';
import type { Action } from '../lifecycle/actions.ts';
import type { Actor } from '../lifecycle/types.ts';
import type { Bus, BusEvent, CaseStore, ReportStore, Settled, StoredReport } from '../ports.ts';
import { citizenKey } from '../privacy.ts';
import { dedupeReportOf, type LatLonConverter, type MergeRelation, mergeIntoCase, owedBefore } from './merge.ts';
import { type ClassifyResult, caseEvent, classifyReport, openCase, type TriageContext } from './triage.ts';

export interface TriageDedupe {
  engine: DedupeEngine;
  /** Links a merged report to the case it joined (`ReportStore.linkReport`). */
  reports: Pick<ReportStore, 'linkReport'>;
  /** WGS-84 of a report's coordinates (WeChat sends GCJ-02); absent → taken as WGS-84. */
  toWgs84?: LatLonConverter;
  /** The lifecycle (`CaseService.act`), for 重办 of a closed case a citizen repeats; absent → the need is recorded only. */
  lifecycle?: { act(caseId: string, action: Action, actor: Actor): Promise<unknown> };
  /** Pause while a case a report joins is still being written by another worker. Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export interface TriageDeps {
  cases: CaseStore;
  bus: Bus;
  context: () => TriageContext;
  departmentName: (id: string | undefined) => string | undefined;
  /** Dedupe (重复件/并案); absent → every report opens its own case. */
  dedupe?: TriageDedupe;
  /**
   * 考核数据: counts what the batch's cases owe the daily aggregates (`countOwed`), in one call; throws when the store
   * failed. With it, a new case owes its creation (`oweCreation`); absent → nothing is owed or counted.
   */
  metrics?: { count(cases: readonly Case[]): Promise<void> };
}

export type TriageRelation = 'new' | 'resubmission' | 'repeat' | 'incident';

export interface TriageOutcome {
  trackingNo: string;
  caseId: string;
  relation: TriageRelation;
  announced: boolean;
  /** Distinct reporters on the case after this report (dedupe only). */
  reporterCount?: number;
  /** Growth thresholds this report made the case cross (`Case.IncidentGrew`). */
  crossed?: number[];
  /** A repeat of a closed case: reopened (重办), or only recorded when the lifecycle could not reopen it. */
  reopen?: 'reopened' | 'recorded';
}

interface Staged {
  report: StoredReport;
  c: Case;
  events: BusEvent[];
  relation: TriageRelation;
  dedupe?: DedupeResult;
  reopen?: 'reopened' | 'recorded';
}

/** Retryable: the report comes back through SQS and is decided again (the engine answers the same). */
export class TriageRetryError extends Error {
  override readonly name = 'TriageRetryError';
}

const CASE_WAIT_ATTEMPTS = 8;
const MERGE_ATTEMPTS = 8;
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Returns the outcome per report; a report whose case could not be written or announced throws (→ retry). */
export async function triageBatch(
  deps: TriageDeps,
  reports: StoredReport[],
): Promise<PromiseSettledResult<TriageOutcome>[]> {
  // 1. Decide (the dedupe engine reads for the whole batch at once), and write (or find) the case of each report.
  const staged = await stageAll(deps, reports);
  // 2. Announce everything owed in as few bus calls as possible. Reports of one batch that joined a case opened in
  // the same batch carry its owed Case.Dispatched too: each event (by eventId) goes out once.
  const ok = staged.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const events: BusEvent[] = [];
  const slotOf = new Map<string, number>();
  const slots = ok.map((s) =>
    s.events.map((e) => {
      const id = typeof e.detail.eventId === 'string' ? e.detail.eventId : undefined;
      const known = id === undefined ? undefined : slotOf.get(id);
      if (known !== undefined) return known;
      events.push(e);
      if (id !== undefined) slotOf.set(id, events.length - 1);
      return events.length - 1;
    }),
  );
  const published = events.length > 0 ? await deps.bus.publish(events) : { failed: [] as number[] };
  const failed = new Set<number>();
  const refused = new Set(published.failed);
  slots.forEach((mine, i) => {
    if (mine.some((slot) => refused.has(slot))) failed.add(i);
  });
  // 3. Mark each case's version announced as soon as the bus answered, all at once: until the mark lands, a report
  // joining the case in another batch re-sends what it owes (a repeat consumers drop by eventId), so nothing goes
  // before it. A failure here only means a repeat later.
  const marked = ok.filter((_v, i) => !failed.has(i));
  await settleEach(deps.cases, marked, (v) => ({ announced: v.events.length > 0 }));
  // 4. Count what the cases owe the daily aggregates, all at once (one update per aggregate item): a new case owes its
  // creation; a case found again (a redelivery) or joined may still owe what an interrupted writer did not count. Then
  // drop it from each case. When the counts fail, those reports come back through SQS, and their redelivery counts.
  const owing = new Map<string, Case>();
  for (const v of marked) if (owesMetrics(v.c)) owing.set(v.c.caseId, v.c);
  const owes = (v: Staged) => deps.metrics !== undefined && owing.has(v.c.caseId);
  let uncounted: unknown;
  if (deps.metrics && owing.size > 0) {
    try {
      await deps.metrics.count([...owing.values()]);
      await settleEach(deps.cases, marked.filter(owes), () => ({ counted: true }));
    } catch (e) {
      uncounted = e ?? new Error('metrics not counted');
    }
  }
  return staged.map((s): PromiseSettledResult<TriageOutcome> => {
    if (s.status === 'rejected') return s;
    const v = s.value;
    if (!marked.includes(v)) {
      return { status: 'rejected', reason: new Error(`bus rejected the announcement of case ${v.c.caseId}`) };
    }
    if (owes(v) && uncounted !== undefined) {
      return {
        status: 'rejected',
        reason: new TriageRetryError(`case ${v.c.caseId} is written but not counted yet: ${String(uncounted)}`),
      };
    }
    return {
      status: 'fulfilled',
      value: {
        trackingNo: v.report.trackingNo,
        caseId: v.c.caseId,
        relation: v.relation,
        announced: v.events.length > 0,
        ...(v.dedupe ? { reporterCount: v.dedupe.reporterCount, crossed: v.dedupe.crossed } : {}),
        ...(v.reopen ? { reopen: v.reopen } : {}),
      },
    };
  });
}

/** One mark per case version (reports of a batch may share one), all at once. */
async function settleEach(cases: CaseStore, staged: Staged[], what: (v: Staged) => Settled): Promise<void> {
  const marks = new Map<string, Promise<void>>();
  for (const v of staged) {
    const w = what(v);
    if (!w.announced && !w.counted) continue;
    const key = `${v.c.caseId}@${v.c.version}`;
    if (!marks.has(key)) marks.set(key, settleQuietly(cases, v.c, w));
  }
  await Promise.all(marks.values());
}

async function stageAll(deps: TriageDeps, reports: readonly StoredReport[]): Promise<PromiseSettledResult<Staged>[]> {
  const ctx = deps.context();
  const verdicts = reports.map((report) => {
    try {
      return { ok: true as const, verdict: classifyReport(report, ctx) };
    } catch (reason) {
      return { ok: false as const, reason };
    }
  });
  const dd = deps.dedupe;
  if (!dd) {
    return Promise.allSettled(
      reports.map(async (report, i) => {
        const v = verdicts[i]!;
        if (!v.ok) throw v.reason;
        return open(deps, report, ctx, v.verdict);
      }),
    );
  }
  // The engine gets every report that could be classified; one batched decision for all of them.
  const inputs: number[] = [];
  const dedupeInputs = reports.flatMap((report, i) => {
    const v = verdicts[i]!;
    if (!v.ok) return [];
    const hint = report.request.categoryHint;
    const category = v.verdict.category ?? (hint && ctx.categories.has(hint) ? hint : undefined);
    try {
      const input = dedupeReportOf(report, category, dd.toWgs84);
      inputs.push(i);
      return [input];
    } catch (reason) {
      verdicts[i] = { ok: false, reason };
      return [];
    }
  });
  const decided = dedupeInputs.length > 0 ? await dd.engine.processBatch(dedupeInputs) : [];
  const decisionOf = new Map<number, PromiseSettledResult<DedupeResult>>(inputs.map((i, k) => [i, decided[k]!]));
  // Reports of this batch that join one case are applied to it together: one read and one conditional write.
  const groups = new Map<string, { report: StoredReport; d: DedupeResult & { relation: MergeRelation } }[]>();
  reports.forEach((report, i) => {
    const d = decisionOf.get(i);
    if (d?.status !== 'fulfilled' || d.value.unsettled) return;
    const r = d.value.relation;
    if (r !== 'repeat' && r !== 'incident') return;
    const g = groups.get(d.value.caseId) ?? [];
    g.push({ report, d: d.value as DedupeResult & { relation: MergeRelation } });
    groups.set(d.value.caseId, g);
  });
  const merges = new Map<string, Promise<Staged[]>>();
  const mergedOf = (caseId: string): Promise<Staged[]> => {
    let p = merges.get(caseId);
    if (!p) {
      p = mergeGroup(deps, dd, groups.get(caseId) ?? [], ctx.now);
      merges.set(caseId, p);
    }
    return p;
  };
  return Promise.allSettled(
    reports.map(async (report, i) => {
      const v = verdicts[i]!;
      if (!v.ok) throw v.reason;
      const d = decisionOf.get(i);
      if (!d) throw new Error(`no dedupe decision for report ${report.trackingNo}`);
      if (d.status === 'rejected') throw d.reason;
      const r = d.value.relation;
      if (!d.value.unsettled && (r === 'repeat' || r === 'incident')) {
        const all = await mergedOf(d.value.caseId);
        const mine = all.find((x) => x.report === report);
        if (!mine) throw new Error(`report ${report.trackingNo} missing from the merge into ${d.value.caseId}`);
        return mine;
      }
      return staged(deps, dd, report, ctx, v.verdict, d.value);
    }),
  );
}

/** What the engine decided, applied to the cases. */
async function staged(
  deps: TriageDeps,
  dd: TriageDedupe,
  report: StoredReport,
  ctx: TriageContext,
  verdict: ClassifyResult,
  d: DedupeResult,
): Promise<Staged> {
  if (d.unsettled) {
    // The case this report joined is still being decided by a worker that stopped: decide again later.
    throw new TriageRetryError(`case ${d.caseId} of report ${report.trackingNo} is not settled yet`);
  }
  if (d.relation === 'new') {
    const own = caseIdFor(report.trackingNo);
    if (d.caseId !== own) throw new Error(`dedupe named case ${d.caseId} for new report ${report.trackingNo}`);
    return { ...(await open(deps, report, ctx, verdict)), dedupe: d };
  }
  if (d.relation === 'resubmission') return resubmitted(deps, dd, report, d);
  // Repeats and incidents are applied per case (`mergeGroup`); a single one here is a group of one.
  return (await mergeGroup(deps, dd, [{ report, d: d as DedupeResult & { relation: MergeRelation } }], ctx.now))[0]!;
}

/** Opens the report's own case (or finds it again on a redelivery and re-sends what it still owes). */
async function open(
  deps: TriageDeps,
  report: StoredReport,
  ctx: TriageContext,
  verdict: ClassifyResult,
): Promise<Staged> {
  const opened = openCase(report, ctx, verdict);
  if (deps.metrics) oweCreation(opened.case);
  const put = await deps.cases.createCase(opened.case);
  if (put.created) return { report, c: opened.case, events: opened.events, relation: 'new' };
  const existing = put.existing;
  const owed: BusEvent[] =
    existing.announcedVersion >= existing.version
      ? []
      : existing.pendingEvents?.length
        ? existing.pendingEvents
        : [
            caseEvent(
              existing,
              existing.state === 'triage' ? 'Case.TriageRequired' : 'Case.Dispatched',
              deps.departmentName(existing.department),
            ),
          ];
  return { report, c: existing, events: owed, relation: 'resubmission' };
}

/** The case `caseId`, waiting briefly while the worker that opened it is still writing it. */
async function caseOf(deps: TriageDeps, dd: TriageDedupe, caseId: string): Promise<Case> {
  const sleep = dd.sleep ?? defaultSleep;
  for (let attempt = 0; attempt < CASE_WAIT_ATTEMPTS; attempt++) {
    const c = await deps.cases.getCase(caseId);
    if (c) return c;
    await sleep(50 * Math.min(attempt + 1, 4));
  }
  throw new TriageRetryError(`case ${caseId} is not written yet`);
}

async function resubmitted(deps: TriageDeps, dd: TriageDedupe, report: StoredReport, d: DedupeResult): Promise<Staged> {
  const c = await caseOf(deps, dd, d.caseId);
  await dd.reports.linkReport(report.idemKey, c.caseId, 'resubmission');
  return { report, c, events: owedBefore(c, deps.departmentName), relation: 'resubmission', dedupe: d };
}

/**
 * The reports of one batch that join the case `members[0].d.caseId`, applied in order in ONE conditional write of
 * the case (re-read and re-applied on a lost race). Each report is then linked to the case, and a repeat of a
 * closed case asks for 重办. What the case owes the bus goes with the last report (announced once per version).
 */
async function mergeGroup(
  deps: TriageDeps,
  dd: TriageDedupe,
  members: { report: StoredReport; d: DedupeResult & { relation: MergeRelation } }[],
  now: string,
): Promise<Staged[]> {
  const caseId = members[0]!.d.caseId;
  let c: Case | undefined;
  let events: BusEvent[] = [];
  for (let attempt = 0; ; attempt++) {
    if (attempt >= MERGE_ATTEMPTS) throw new TriageRetryError(`case ${caseId} kept changing under the merge`);
    const current = await caseOf(deps, dd, caseId);
    let next: Case | undefined;
    for (const { report, d } of members) {
      const merged = mergeIntoCase(next ?? current, {
        report,
        relation: d.relation,
        dedupe: d,
        now,
        departmentName: deps.departmentName,
      });
      if (merged) {
        next = merged.next;
        events = merged.events;
      }
    }
    if (!next) {
      // Applied before (a redelivery): only what the case still owes is re-sent.
      c = current;
      events = owedBefore(current, deps.departmentName);
      break;
    }
    if (await deps.cases.replaceCase(next, current.version)) {
      c = next;
      break;
    }
  }
  const out: Staged[] = [];
  let reopened = false;
  for (const { report, d } of members) {
    await dd.reports.linkReport(report.idemKey, c.caseId, d.relation);
    let reopen: Staged['reopen'];
    if (d.reopen && d.relation === 'repeat') {
      reopen = await reopenClosed(deps, dd, report, c, d);
      if (reopen === 'reopened') {
        // The lifecycle announced its own step; what this merge owed was carried into its write.
        const latest = await deps.cases.getCase(c.caseId);
        if (latest) c = latest;
        reopened = true;
      }
    }
    out.push({ report, c, events: [], relation: d.relation, dedupe: d, ...(reopen ? { reopen } : {}) });
  }
  const last = out[out.length - 1]!;
  last.c = c;
  last.events = reopened ? owedBefore(c, deps.departmentName) : events;
  return out;
}

/**
 * 重办: the citizen who filed a closed case reports it again. The lifecycle reopens it as that citizen (the machine
 * allows `reopen` to citizens, agents and supervisors, from `closed` only). Anyone else's repeat, or a case no longer
 * in `closed`, keeps the request on the history entry the merge wrote (`details.reopenRequested`).
 */
async function reopenClosed(
  deps: TriageDeps,
  dd: TriageDedupe,
  report: StoredReport,
  c: Case,
  d: DedupeResult,
): Promise<'reopened' | 'recorded'> {
  if (!dd.lifecycle || c.state !== 'closed') return 'recorded';
  const ref = citizenRefOf(c);
  if (ref === null || citizenKey(report.request.citizen) !== ref) return 'recorded';
  const reason =
    `市民再次反映（受理编号 ${report.trackingNo}），工单重办。${d.explanation.split(' Repeat:')[0] ?? ''}`.slice(
      0,
      900,
    );
  try {
    await dd.lifecycle.act(c.caseId, { type: 'reopen', reason }, { role: 'citizen', id: ref });
    return 'reopened';
  } catch {
    // Refused (a concurrent step moved the case on) or the race was lost: re-read once and try again if still closed.
    const again = await deps.cases.getCase(c.caseId);
    if (again?.state !== 'closed') return 'recorded';
    try {
      await dd.lifecycle.act(c.caseId, { type: 'reopen', reason }, { role: 'citizen', id: ref });
      return 'reopened';
    } catch {
      return 'recorded';
    }
  }
}

async function settleQuietly(cases: CaseStore, c: Case, what: Settled): Promise<void> {
  try {
    await cases.markSettled(c.caseId, c.version, what);
  } catch {
    // The case stays "owed": the next delivery or the sweep announces (and counts) it again; consumers drop a repeat by
    // eventId, the aggregates a repeated count by token.
  }
}
