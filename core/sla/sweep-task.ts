/**
 * The SLA sweep against the ports (run every minute by `functions/sweep.ts`): for each shard of the due index, the
 * entries due at or before `now`; for each, a consistent re-read of the case, `sweepDecision`, the events on the bus,
 * then ONE conditional write of the case (same version: `recordFired`, the history note and, through the store's
 * `caseItem`, the next due key). Its cost follows the number of due entries, never the number of cases.
 *
 * Order and races, on purpose:
 * - Publish first, write second. A failed publish writes nothing: the entry stays due and the next run tries again.
 *   A lost write (someone changed the case meanwhile) leaves the step unrecorded: if the clock still runs, the next
 *   run decides again and re-sends the same event id (`<caseId>:sla:<generation>:<kind>:<step>`), which consumers
 *   drop. So an event is announced at least once and a repeated timer changes nothing twice.
 * - The write keeps the case's version: an SLA step is bookkeeping, not a case change, and must not turn a
 *   department's concurrent action (sent with the version it read) into a 409. The price: a lifecycle write based on
 *   the same version may overwrite the recorded step; if that clock still runs, the step is decided again and its
 *   event re-sent under the same id (dropped by consumers).
 * - Announcements owed by the case (`announcedVersion < version`) go out in the same bus call; the write then
 *   records them as announced.
 */
import { formatShanghai } from '../calendar/shanghai-time.ts';
import { type Case, type HistoryEntry, owesMetrics } from '../case.ts';
import type { BusEvent, Settled } from '../ports.ts';
import { caseEvent } from '../triage/triage.ts';
import type { CaseMetricsPort } from './case-metrics.ts';
import { policyForCase, type SlaEnv } from './case-sla.ts';
import { asSlaRecord, recomputeDeadlines, type SlaRecord, timeWindows } from './deadlines.ts';
import { caseDueKey, DUE_SHARDS, PROVISIONAL_ALARM_FIELD, provisionalAlarmOwed } from './due-key.ts';
import type { DeadlineKind } from './policy.ts';
import { dueQueryUpperBound, recordFired, SLA_EVENT_TYPES, type SweepDecision, sweepDecision } from './sweep.ts';

/** One entry of the due index as the query returns it. */
export interface DueEntry {
  sk: string;
  caseId: string;
  /** The case version the index item was written with (undefined if the index does not project it). */
  version?: number | undefined;
}

/** Opaque position for the next page of a shard. */
export type DueCursor = Record<string, unknown>;

export interface DuePage {
  entries: DueEntry[];
  cursor?: DueCursor | undefined;
}

export interface SlaSweepPorts {
  queryDue(shard: number, upperBound: string, limit: number, after?: DueCursor): Promise<DuePage>;
  getCase(caseId: string): Promise<Case | undefined>;
  replaceCase(c: Case, expectedVersion: number): Promise<boolean>;
  markSettled(caseId: string, version: number, settled: Settled): Promise<void>;
  publish(events: BusEvent[]): Promise<{ failed: number[] }>;
  departmentName?(id: string | undefined): string | undefined;
  /**
   * 考核数据: what a case the sweep meets still owes the daily aggregates is counted (a writer stopped before its
   * count). The sweep's own writes keep the case's version and change nothing the aggregates count (a fired timer,
   * a note); a recompute of provisional deadlines does move due days, which `cityloop verify --metrics` reports.
   * Absent → nothing counted.
   */
  metrics?: Pick<CaseMetricsPort, 'count'>;
}

export interface SlaSweepOptions {
  shards?: number;
  /** Entries per query page (default 100). */
  pageSize?: number;
  /** Pages per shard per run (default 50): a run is bounded; what is left waits for the next minute. */
  maxPages?: number;
  /** Cases handled at once (default 8). */
  concurrency?: number;
  /** For the alarm text: the last date the calendar covers. */
  coveredUntil?: string;
  /**
   * The current calendar and policies: a provisional record computed on an older calendar version is recomputed
   * (`recomputeDeadlines`) when the sweep touches it, before anything fires.
   */
  env?: SlaEnv;
}

export type EntryOutcome =
  | 'fired' // warn / breach / chase emitted and recorded
  | 'alarm' // only the provisional alarm
  | 'stale' // nothing to do
  | 'missing' // no such case
  | 'lost' // someone changed the case first: skipped
  | 'publish-failed' // nothing written; retried next run
  | 'repaired' // stale entry the case no longer names: key rewritten
  | 'recomputed'; // provisional deadlines recomputed on a newer calendar (timers decided on the next run)

export interface SlaSweepResult {
  checked: number;
  emitted: number;
  fired: number;
  alarms: number;
  stale: number;
  lost: number;
  failed: number;
  repaired: number;
  recomputed: number;
  reannounced: number;
  /** Cases whose owed counts (考核数据) the sweep made. */
  recounted: number;
  /** Timers fired in this run, by step: 预警, 超期, 催办. */
  warnings: number;
  breaches: number;
  chases: number;
}

export const KIND_LABELS: Readonly<Record<DeadlineKind, string>> = {
  dispatch: '派单',
  sign: '签收',
  contact: '先行联系',
  resolve: '办结',
};

const SWEEP_ACTOR = { role: 'system' as const, id: 'sla-sweep' };

/** Events an earlier version still owes the bus (a failed publish, or triage not yet marked). */
export function owedEvents(c: Case, departmentName?: (id: string | undefined) => string | undefined): BusEvent[] {
  if (c.announcedVersion >= c.version) return [];
  if (c.pendingEvents?.length) return c.pendingEvents;
  // Triage's first version records no pendingEvents: its announcement is the case event itself.
  return c.version === 1
    ? [caseEvent(c, c.state === 'triage' ? 'Case.TriageRequired' : 'Case.Dispatched', departmentName?.(c.department))]
    : [];
}

type Fire = Extract<SweepDecision, { action: 'warn' | 'breach' | 'chase' }>;

/** The bus event of one SLA step. */
export function slaEvent(
  c: Case,
  record: SlaRecord,
  d: Fire,
  departmentName?: (id: string | undefined) => string | undefined,
): BusEvent {
  const detailType = SLA_EVENT_TYPES[d.action];
  const { kind, step } = d.timer;
  return {
    detailType,
    resources: [c.caseId],
    detail: {
      eventId: `${c.caseId}:sla:${record.generation}:${kind}:${step}`,
      caseId: c.caseId,
      trackingNo: c.trackingNo,
      version: c.version,
      state: c.state,
      department: c.department,
      departmentName: departmentName?.(c.department),
      category: c.category,
      nature: c.nature,
      urgency: c.urgency,
      title: c.title,
      timer: d.timer,
      kind,
      kindLabel: KIND_LABELS[kind],
      stage: d.action,
      /** 第几次催办 (chases only). */
      ...(d.action === 'chase' ? { chaseNo: step - 2 } : {}),
      dueAt: d.dueAt,
      overdueMs: d.overdueMs,
      generation: record.generation,
      policyId: record.policyId,
    },
  };
}

/** The `Calendar.Provisional` alarm of one case. */
export function provisionalEvent(c: Case, record: SlaRecord, coveredUntil?: string): BusEvent {
  return {
    detailType: SLA_EVENT_TYPES.provisional,
    resources: [c.caseId],
    detail: {
      eventId: `${c.caseId}:calendar:${record.calendarVersion}`,
      caseId: c.caseId,
      trackingNo: c.trackingNo,
      department: c.department,
      title: c.title,
      calendarVersion: record.calendarVersion,
      ...(coveredUntil ? { coveredUntil } : {}),
      resolveDue: record.resolveDue,
      generation: record.generation,
      message: '时限跨越日历未覆盖的日期，按周一至周五暂算；新一年节假日安排公布后须更新日历并重算',
    },
  };
}

function hours(ms: number): string {
  return (Math.abs(ms) / 3_600_000).toFixed(1);
}

function noteFor(c: Case, d: Fire, now: string): HistoryEntry {
  const label = KIND_LABELS[d.timer.kind];
  const text =
    d.action === 'warn'
      ? `时限预警: ${label}时限 ${d.dueAt} 将到期 (剩 ${hours(d.overdueMs)} 小时)`
      : d.action === 'breach'
        ? `超期督办: ${label}时限 ${d.dueAt} 已到期`
        : `催办 (第 ${d.timer.step - 2} 次): ${label}已超期 ${hours(d.overdueMs)} 小时`;
  return {
    at: now,
    actor: SWEEP_ACTOR,
    action: 'addNote',
    from: c.state,
    to: c.state,
    department: c.department ?? null,
    text,
    details: { sla: d.action, kind: d.timer.kind, step: d.timer.step, dueAt: d.dueAt },
    visibility: 'internal',
  };
}

function alarmNote(c: Case, record: SlaRecord, now: string, coveredUntil?: string): HistoryEntry {
  return {
    at: now,
    actor: SWEEP_ACTOR,
    action: 'addNote',
    from: c.state,
    to: c.state,
    department: c.department ?? null,
    text: `时限为暂算: 计算跨越日历未覆盖的日期${coveredUntil ? ` (日历覆盖至 ${coveredUntil})` : ''}，待日历更新后重算`,
    details: { sla: 'provisional', calendarVersion: record.calendarVersion },
    visibility: 'internal',
  };
}

export interface EntryResult {
  outcome: EntryOutcome;
  /** SLA events put on the bus (warn/breach/chase and the alarm). */
  emitted: number;
  /** Owed case announcements re-sent. */
  reannounced: number;
  /** The case's owed counts were made. */
  recounted?: boolean;
  /** The provisional alarm was raised. */
  alarm: boolean;
  /** Which timer step fired (for the breach metric the stack alarms on). */
  action?: 'warn' | 'breach' | 'chase';
}

/** Handles one due entry. */
export async function sweepEntry(
  ports: SlaSweepPorts,
  entry: DueEntry,
  now: Date,
  opts: SlaSweepOptions = {},
): Promise<EntryResult> {
  const c = await ports.getCase(entry.caseId);
  if (!c) return { outcome: 'missing', emitted: 0, reannounced: 0, alarm: false };
  const record = asSlaRecord(c.deadlines);
  if (record?.provisional && opts.env && record.calendarVersion !== opts.env.calendar.version) {
    return recompute(ports, c, record, opts.env, now);
  }
  const decision = sweepDecision(
    { caseId: c.caseId, state: c.state, deadlines: c.deadlines, timestamps: c.timestamps },
    { sk: entry.sk },
    now,
  );
  const alarm = record !== undefined && provisionalAlarmOwed(c);
  const owed = owedEvents(c, ports.departmentName);

  if (decision.action === 'stale' && !alarm) {
    let reannounced = 0;
    if (owed.length > 0) {
      const r = await ports.publish(owed);
      if (r.failed.length === 0) reannounced = owed.length;
    }
    const recounted = await countOwedQuietly(ports, c);
    // An entry the current item still carries but the case no longer names (a writer that bypassed caseItem):
    // rewrite the case unchanged (what it owed settled) so its item gets the right key.
    if (entry.version === c.version && caseDueKey(c, opts.shards)?.sk !== entry.sk) {
      const latest = settledCopy(c, reannounced > 0, recounted);
      if (await ports.replaceCase(latest, c.version)) {
        return { outcome: 'repaired', emitted: 0, reannounced, recounted, alarm: false };
      }
    }
    if (reannounced > 0 || recounted) {
      await ports.markSettled(c.caseId, c.version, { announced: reannounced > 0, counted: recounted });
    }
    return { outcome: 'stale', emitted: 0, reannounced, recounted, alarm: false };
  }

  const at = formatShanghai(now.getTime());
  const sla: BusEvent[] = [];
  const notes: HistoryEntry[] = [];
  let deadlines = record as SlaRecord;
  if (alarm) {
    sla.push(provisionalEvent(c, deadlines, opts.coveredUntil));
    notes.push(alarmNote(c, deadlines, at, opts.coveredUntil));
  }
  if (decision.action !== 'stale') {
    sla.push(slaEvent(c, deadlines, decision, ports.departmentName));
    notes.push(noteFor(c, decision, at));
    deadlines = recordFired(deadlines, decision.timer);
  }
  const r = await ports.publish([...owed, ...sla]);
  if (r.failed.length > 0) return { outcome: 'publish-failed', emitted: 0, reannounced: 0, alarm: false };
  const recounted = await countOwedQuietly(ports, c);

  // A fired timer or an alarm changes nothing the aggregates count (the deadlines stay): the write owes nothing new.
  const next: Case = {
    ...settledCopy(c, true, recounted),
    deadlines: deadlines as unknown as Record<string, unknown>,
    history: [...c.history, ...notes],
    ...(alarm ? { [PROVISIONAL_ALARM_FIELD]: deadlines.calendarVersion } : {}),
  };
  const won = await ports.replaceCase(next, c.version);
  // Lost: the events are out (consumers drop a repeat by eventId), the counts made (tokens); the next run decides
  // again on the new case.
  if (!won) return { outcome: 'lost', emitted: sla.length, reannounced: owed.length, recounted, alarm };
  return {
    outcome: decision.action === 'stale' ? 'alarm' : 'fired',
    emitted: sla.length,
    reannounced: owed.length,
    recounted,
    alarm,
    ...(decision.action === 'stale' ? {} : { action: decision.action }),
  };
}

/** Deadlines counted over dates an older calendar did not cover, counted again on the current one. */
async function recompute(
  ports: SlaSweepPorts,
  c: Case,
  record: SlaRecord,
  env: SlaEnv,
  now: Date,
): Promise<EntryResult> {
  const fresh = recomputeDeadlines(record, policyForCase(c, env), env.calendar);
  const note: HistoryEntry = {
    at: formatShanghai(now.getTime()),
    actor: SWEEP_ACTOR,
    action: 'addNote',
    from: c.state,
    to: c.state,
    department: c.department ?? null,
    text: `日历已更新 (${env.calendar.version})，时限重算: 办结时限 ${fresh.record.resolveDue}`,
    details: { sla: 'recomputed', calendarVersion: env.calendar.version, generation: fresh.record.generation },
    visibility: 'internal',
  };
  const next: Case = {
    ...c,
    deadlines: fresh.record as unknown as Record<string, unknown>,
    ...(c.windows ? { windows: timeWindows(fresh.record) } : {}),
    history: [...c.history, note],
  };
  const won = await ports.replaceCase(next, c.version);
  return { outcome: won ? 'recomputed' : 'lost', emitted: 0, reannounced: 0, alarm: false };
}

/** Counts what the case still owes the daily aggregates; false when nothing was (none owed, or the store failed). */
async function countOwedQuietly(ports: SlaSweepPorts, c: Case): Promise<boolean> {
  if (!ports.metrics || !owesMetrics(c)) return false;
  try {
    await ports.metrics.count(c);
    return true;
  } catch {
    return false; // Still owed: the next visit (the next timer, the next step) counts it.
  }
}

/** The case with what the sweep settled: announced (its owed events are out) and/or counted. */
function settledCopy(c: Case, announced: boolean, counted: boolean): Case {
  const out: Case = { ...c, ...(announced ? { announcedVersion: c.version } : {}) };
  if (counted) delete out.metricsOwed;
  return out;
}

const OUTCOME_COUNTERS: Record<EntryOutcome, keyof SlaSweepResult | null> = {
  fired: 'fired',
  alarm: null,
  stale: 'stale',
  missing: 'stale',
  lost: 'lost',
  'publish-failed': 'failed',
  repaired: 'repaired',
  recomputed: 'recomputed',
};

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/** One sweep over every shard of the due index. Never throws for one case: a failing case waits for the next run. */
export async function runSlaSweep(
  ports: SlaSweepPorts,
  now: Date,
  opts: SlaSweepOptions & { onError?: (caseId: string, error: unknown) => void } = {},
): Promise<SlaSweepResult> {
  const shards = opts.shards ?? DUE_SHARDS;
  const pageSize = opts.pageSize ?? 100;
  const maxPages = opts.maxPages ?? 50;
  const concurrency = opts.concurrency ?? 8;
  const bound = dueQueryUpperBound(now);
  const out: SlaSweepResult = {
    checked: 0,
    emitted: 0,
    fired: 0,
    alarms: 0,
    stale: 0,
    lost: 0,
    failed: 0,
    repaired: 0,
    recomputed: 0,
    reannounced: 0,
    recounted: 0,
    warnings: 0,
    breaches: 0,
    chases: 0,
  };
  const handle = async (e: DueEntry) => {
    out.checked++;
    try {
      const r = await sweepEntry(ports, e, now, opts);
      out.emitted += r.emitted;
      out.reannounced += r.reannounced;
      if (r.recounted) out.recounted++;
      if (r.alarm) out.alarms++;
      if (r.outcome === 'fired' && r.action === 'warn') out.warnings++;
      if (r.outcome === 'fired' && r.action === 'breach') out.breaches++;
      if (r.outcome === 'fired' && r.action === 'chase') out.chases++;
      const counter = OUTCOME_COUNTERS[r.outcome];
      if (counter) out[counter]++;
    } catch (err) {
      out.failed++;
      opts.onError?.(e.caseId, err);
    }
  };
  await pool(
    Array.from({ length: shards }, (_, s) => s),
    Math.min(shards, 4),
    async (shard) => {
      let cursor: DueCursor | undefined;
      for (let page = 0; page < maxPages; page++) {
        const res = await ports.queryDue(shard, bound, pageSize, cursor);
        await pool(res.entries, concurrency, handle);
        cursor = res.cursor;
        if (!cursor) break;
      }
    },
  );
  return out;
}
