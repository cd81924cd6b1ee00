/**
 * The timer sweep, pure part: the sparse, sharded due index and the decision per index entry.
 *
 * Index: each open case with a timer to come carries ONE index key, that of its next timer:
 * `{ pk: 'DUE#<shard>', sk: '<fire instant, ISO UTC>#<caseId>#<generation>' }` (a GSI on the case item; cases without
 * a timer have no key, so the index holds only due items: sparse). The sweep queries every shard for
 * `sk <= dueQueryUpperBound(now)`: its cost follows the number of due timers, not the number of cases. Shards spread
 * the write and read load of one hot partition (all cases due this minute) over several.
 *
 * Decision: the GSI is eventually consistent and a Lambda may run twice, so the sweep re-reads the case and asks
 * `sweepDecision(case, entry, now)`. Only an entry that matches the case's current generation, a clock that still runs
 * in the case's state, and a step not yet acted on leads to an action; anything else is `stale` and does nothing.
 * After acting, the sweep stores `recordFired(...)` and the next index key in ONE conditional write on the case.
 */
import { formatShanghai, formatUtc, parseInstant } from '../calendar/shanghai-time.ts';
import { asSlaRecord, dueOf, type SlaRecord, type SlaTimer } from './deadlines.ts';
import type { DeadlineKind } from './policy.ts';

/**
 * Event detail types the sweep puts on the bus (督办 for the supervisors' queue, 催办 for the department). The names
 * are those the topology's `to-supervisors` rule matches (`core/topology.ts`).
 */
export const SLA_EVENT_TYPES = {
  warn: 'Case.SlaWarning',
  breach: 'Case.SlaBreached',
  chase: 'Case.Chased',
  /** Deadlines counted over dates the calendar does not cover yet: an alarm for whoever keeps the calendar. */
  provisional: 'Calendar.Provisional',
} as const;

/**
 * In which lifecycle states each clock runs (state ids of `core/lifecycle/states.ts`). The contact clock also stops
 * once the first contact (先行联系) is recorded. While a return request is pending the resolve clock keeps running:
 * the centre decides returns within hours, and a return does not buy the department time.
 */
export const CLOCK_STATES: Readonly<Record<DeadlineKind, readonly string[]>> = {
  dispatch: ['received', 'triage'],
  sign: ['dispatched'],
  contact: ['dispatched', 'signed'],
  resolve: ['dispatched', 'signed', 'returnRequested'],
};

export function runningClocks(state: string, contacted: boolean): DeadlineKind[] {
  const out: DeadlineKind[] = [];
  for (const kind of ['dispatch', 'sign', 'contact', 'resolve'] as const) {
    if (kind === 'contact' && contacted) continue;
    if (CLOCK_STATES[kind].includes(state)) out.push(kind);
  }
  return out;
}

/** The case as the sweep needs it (a subset of the lifecycle's `CaseSnapshot`). */
export interface SweepCaseView {
  caseId: string;
  state: string;
  /** `Case.deadlines`: the `SlaRecord`. */
  deadlines: unknown;
  timestamps?: { firstContactAt?: string | null | undefined } | undefined;
}

/** The earliest timer not yet acted on among the clocks that run. */
export function nextTimer(record: SlaRecord, running: readonly DeadlineKind[]): SlaTimer | undefined {
  for (const t of record.timeline) if (running.includes(t.kind) && t.step > record.progress[t.kind]) return t;
  return undefined;
}

export function nextTimerFor(view: SweepCaseView): SlaTimer | undefined {
  const record = asSlaRecord(view.deadlines);
  if (!record) return undefined;
  return nextTimer(record, runningClocks(view.state, Boolean(view.timestamps?.firstContactAt)));
}

export interface DueIndexKey {
  pk: string;
  sk: string;
}

/** FNV-1a: a stable, fast string hash (same shard for a case on every run and every machine). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shardOf(caseId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > 1000)
    throw new RangeError(`shards must be 1..1000: ${shards}`);
  return fnv1a(caseId) % shards;
}

/** The index key of one timer. `dueAt`: ISO with a zone, or epoch ms. */
export function dueIndexKey(caseId: string, dueAt: string | number, generation: number, shards: number): DueIndexKey {
  const ms = typeof dueAt === 'number' ? dueAt : parseInstant(dueAt);
  return { pk: `DUE#${shardOf(caseId, shards)}`, sk: `${formatUtc(ms)}#${caseId}#${generation}` };
}

/** The index key a case should carry now, or null (no timer to come: remove the key, the index stays sparse). */
export function dueIndexKeyFor(view: SweepCaseView, shards: number): DueIndexKey | null {
  const record = asSlaRecord(view.deadlines);
  const t = record && nextTimer(record, runningClocks(view.state, Boolean(view.timestamps?.firstContactAt)));
  return t && record ? dueIndexKey(view.caseId, t.at, record.generation, shards) : null;
}

/** Upper bound for the sweep's query: `sk <= bound` selects every entry due at or before `now`. */
export function dueQueryUpperBound(now: string | number | Date): string {
  return `${formatUtc(toMs(now))}#\uffff`;
}

export interface ParsedDueKey {
  /** ISO UTC. */
  dueAt: string;
  dueMs: number;
  caseId: string;
  generation: number;
}

/** Reads `<ISO UTC>#<caseId>#<generation>` (the case id may itself contain `#`). Undefined when malformed. */
export function parseDueIndexKey(sk: string): ParsedDueKey | undefined {
  const first = sk.indexOf('#');
  const last = sk.lastIndexOf('#');
  if (first <= 0 || last <= first) return undefined;
  const dueAt = sk.slice(0, first);
  const caseId = sk.slice(first + 1, last);
  const genText = sk.slice(last + 1);
  if (!/^\d{1,9}$/.test(genText) || caseId.length === 0) return undefined;
  const dueMs = Date.parse(dueAt);
  if (Number.isNaN(dueMs) || !dueAt.endsWith('Z')) return undefined;
  return { dueAt, dueMs, caseId, generation: Number(genText) };
}

export type StaleReason =
  | 'malformed-entry'
  | 'case-mismatch'
  | 'no-deadlines'
  | 'generation' // the deadlines moved since the entry was written
  | 'state-moved' // the clock of that timer no longer runs (signed, contacted, resolved, closed …)
  | 'already-fired' // a repeated or retried timer: the step is done
  | 'timer-moved' // no timer at that instant in this generation
  | 'not-yet-due';

export type SweepDecision =
  | {
      action: 'warn' | 'breach' | 'chase';
      timer: SlaTimer;
      /** The deadline this timer is about. */
      dueAt: string;
      /** now − due, ms (negative for a warning). */
      overdueMs: number;
    }
  | {
      action: 'stale';
      reason: StaleReason;
      /** The case's real next timer, so the sweep can repair an index key the lifecycle left behind. */
      next: SlaTimer | null;
    };

/** `YYYY-MM-DDTHH:mm:ss.sss+08:00`, as `formatShanghai` writes it. */
function isCanonical(at: string): boolean {
  return at.length === 29 && at.endsWith('+08:00');
}

function toMs(t: string | number | Date): number {
  return typeof t === 'number' ? t : t instanceof Date ? t.getTime() : parseInstant(t);
}

/**
 * What the sweep does for one due index entry: `warn` / `breach` / `chase` (emit the event, then store
 * `recordFired`), or `stale` (do nothing). When the sweep was late and several steps of one clock are past (warning,
 * breach, chases), only the latest is acted on: no warning after a breach, one chase instead of three.
 */
export function sweepDecision(
  view: SweepCaseView,
  entry: { sk: string } | ParsedDueKey,
  now: string | number | Date,
): SweepDecision {
  const parsed = 'sk' in entry ? parseDueIndexKey(entry.sk) : entry;
  const record = asSlaRecord(view.deadlines);
  const running = runningClocks(view.state, Boolean(view.timestamps?.firstContactAt));
  const stale = (reason: StaleReason): SweepDecision => ({
    action: 'stale',
    reason,
    next: record ? (nextTimer(record, running) ?? null) : null,
  });
  if (!parsed) return stale('malformed-entry');
  if (parsed.caseId !== view.caseId) return stale('case-mismatch');
  if (!record) return stale('no-deadlines');
  if (parsed.generation !== record.generation) return stale('generation');
  // Timeline instants are written by formatShanghai (fixed width, +08:00): they compare as text, in time order.
  const entryAt = formatShanghai(parsed.dueMs);
  const at = (t: SlaTimer) => (isCanonical(t.at) ? t.at === entryAt : Date.parse(t.at) === parsed.dueMs);
  let first: SlaTimer | undefined;
  for (const t of record.timeline) {
    if (running.includes(t.kind) && t.step > record.progress[t.kind] && at(t)) {
      first = t;
      break;
    }
  }
  if (!first) {
    const atEntry = record.timeline.filter(at);
    if (atEntry.length === 0) return stale('timer-moved');
    return stale(atEntry.some((t) => running.includes(t.kind)) ? 'already-fired' : 'state-moved');
  }
  const nowMs = toMs(now);
  if (parsed.dueMs > nowMs) return stale('not-yet-due');
  const nowAt = formatShanghai(nowMs);
  let timer = first;
  for (const t of record.timeline) {
    if (t.kind !== first.kind || t.step <= timer.step) continue;
    if (isCanonical(t.at) ? t.at <= nowAt : Date.parse(t.at) <= nowMs) timer = t;
  }
  const dueAt = dueOf(record, timer.kind);
  return { action: timer.stage, timer, dueAt, overdueMs: nowMs - parseInstant(dueAt) };
}

/** The record after acting on `timer`: its step is done (idempotent; steps only go up). */
export function recordFired(record: SlaRecord, timer: SlaTimer): SlaRecord {
  if (record.progress[timer.kind] >= timer.step) return record;
  return { ...record, progress: { ...record.progress, [timer.kind]: timer.step } };
}
