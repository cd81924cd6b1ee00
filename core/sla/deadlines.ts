/**
 * Deadlines of one case on the working calendar: computed at receipt, moved by approved extensions (延期), restarted
 * by re-dispatch (改派) or reopening (重办) as the policy says, recomputed when the calendar is extended.
 *
 * The record lives on the case (`Case.deadlines`) and carries:
 * - `generation`: bumped whenever any deadline moves. The due index entry names its generation, so an entry written
 *   for an older generation is recognised as stale by the sweep and does nothing.
 * - `timeline`: every timer of the current generation (warning, breach, bounded 催办 chases) precomputed on the
 *   calendar, so the sweep decides without a calendar and without reading anything but the case.
 * - `progress`: per deadline kind, the last timer step acted on. A repeated or late timer finds its step already
 *   done and does nothing.
 *
 * All instants are ISO 8601 with +08:00 (Asia/Shanghai).
 */
import * as z from 'zod/mini';
import {
  dayNumber,
  endOfShanghaiDay,
  formatShanghai,
  HOUR_MS,
  isIsoDate,
  parseInstant,
  shanghaiDayOf,
  startOfShanghaiDay,
} from '../calendar/shanghai-time.ts';
import type { WorkingCalendar } from '../calendar/working-calendar.ts';
import { CityLoopError } from '../errors.ts';
import { DEADLINE_KINDS, type DeadlineKind, type Duration, type LimitSpec, type SlaPolicy } from './policy.ts';

/** The sweep half (due index, decision) lives in `./sweep.ts`; re-exported so one import serves the lifecycle. */
export * from './sweep.ts';

export const TIMER_STAGES = ['warn', 'breach', 'chase'] as const;
export type TimerStage = (typeof TIMER_STAGES)[number];

const iso = z.iso.datetime({ offset: true });
const step = z.number().check(z.int(), z.gte(0));

export const SlaTimerSchema = z.object({
  kind: z.enum(DEADLINE_KINDS),
  stage: z.enum(TIMER_STAGES),
  /** warn = 1, breach = 2, the k-th chase = 2 + k: steps of one kind only go up. */
  step: step,
  at: iso,
});
export type SlaTimer = z.infer<typeof SlaTimerSchema>;

/** What `computeDeadlines` promises at least. */
export interface Deadlines {
  dispatchDue: string;
  signDue: string;
  contactDue: string;
  resolveDue: string;
  /** Some deadline was counted over dates past the calendar's covered range (as Mon–Fri): raise an alarm, recompute later. */
  provisional: boolean;
}

export const SlaRecordSchema = z.object({
  generation: z.number().check(z.int(), z.gte(1)),
  /** Resolved policy id `<policyId>/<nature>/<urgency>`. */
  policyId: z.string(),
  policyVersion: z.string(),
  calendarVersion: z.string(),
  receivedAt: iso,
  /** Dispatch to the current department (clock start of sign, contact and return); null before dispatch. */
  dispatchedAt: z.nullable(iso),
  /** The instant the resolve limit is counted from: receipt, or a re-dispatch / reopen that restarted it. */
  resolveFrom: iso,
  dispatchDue: iso,
  signDue: iso,
  contactDue: iso,
  resolveDue: iso,
  /** 退单时限. */
  returnDue: iso,
  /** The resolve limit before any extension. */
  baseResolveDue: iso,
  /** Granted extension (the new due instant), if any. */
  extendedTo: z.nullable(iso),
  /** The furthest an extension may reach (base + policy maximum). */
  extensionLatest: iso,
  provisional: z.boolean(),
  timeline: z.array(SlaTimerSchema),
  progress: z.object({ dispatch: step, sign: step, contact: step, resolve: step }),
});
export type SlaRecord = z.infer<typeof SlaRecordSchema>;

/** Light structural check for hot paths (the sweep); use `SlaRecordSchema` to validate a stored record fully. */
export function asSlaRecord(x: unknown): SlaRecord | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const r = x as Partial<SlaRecord>;
  return typeof r.generation === 'number' &&
    Array.isArray(r.timeline) &&
    typeof r.resolveDue === 'string' &&
    r.progress !== null &&
    typeof r.progress === 'object'
    ? (r as SlaRecord)
    : undefined;
}

/** Time windows the lifecycle machine checks (`core/lifecycle` `TimeWindows`). */
export interface TimeWindows {
  returnBy: string | null;
  dueAt: string | null;
  extensionLatest: string | null;
}

export function timeWindows(r: SlaRecord): TimeWindows {
  return { returnBy: r.returnDue, dueAt: r.resolveDue, extensionLatest: r.extensionLatest };
}

interface Instant {
  ms: number;
  provisional: boolean;
}

/** Start + duration on the calendar. */
export function addDuration(cal: WorkingCalendar, startMs: number, d: Duration): Instant {
  if ('hours' in d) return { ms: startMs + Math.round(d.hours * HOUR_MS), provisional: false };
  if ('workingHours' in d) return cal.addWorkingMs(startMs, Math.round(d.workingHours * HOUR_MS));
  const r = cal.addWorkingDaysByDay(shanghaiDayOf(startMs), d.workingDays);
  return { ms: endOfShanghaiDay(r.day), provisional: r.provisional };
}

/**
 * Due − lead. For `workingDays: k` the warning comes at 00:00 of the k-th last working day of the window
 * (k = 1: "due today").
 */
export function subtractDuration(cal: WorkingCalendar, dueMs: number, d: Duration): Instant {
  if ('hours' in d) return { ms: dueMs - Math.round(d.hours * HOUR_MS), provisional: false };
  if ('workingHours' in d) return cal.addWorkingMs(dueMs, -Math.round(d.workingHours * HOUR_MS));
  const r = cal.addWorkingDaysByDay(shanghaiDayOf(dueMs), -(d.workingDays - 1));
  return { ms: startOfShanghaiDay(r.day), provisional: r.provisional };
}

/** What a record is computed from: the same function serves creation, restarts, extensions and recomputation. */
interface Inputs {
  receivedAt: number;
  dispatchedAt: number | null;
  resolveFrom: number;
  extendedTo: number | null;
  generation: number;
  progress: SlaRecord['progress'];
}

interface PendingTimer {
  kind: DeadlineKind;
  stage: TimerStage;
  step: number;
  ms: number;
}

function timersFor(
  cal: WorkingCalendar,
  kind: DeadlineKind,
  startMs: number,
  dueMs: number,
  spec: LimitSpec,
  policy: SlaPolicy,
  out: PendingTimer[],
): boolean {
  let provisional = false;
  if (spec.warnBefore) {
    const w = subtractDuration(cal, dueMs, spec.warnBefore);
    provisional ||= w.provisional;
    // A warning at or before the clock start would fire at once: a limit shorter than its lead has no warning.
    if (w.ms > startMs && w.ms < dueMs) out.push({ kind, stage: 'warn', step: 1, ms: w.ms });
  }
  out.push({ kind, stage: 'breach', step: 2, ms: dueMs });
  // 派单 is the centre's own job: its breach goes to the supervisors once; 催办 chases departments.
  if (kind !== 'dispatch') {
    let t = dueMs;
    for (let k = 1; k <= policy.chase.max; k++) {
      const c = addDuration(cal, t, policy.chase.every);
      provisional ||= c.provisional;
      t = c.ms;
      out.push({ kind, stage: 'chase', step: 2 + k, ms: t });
    }
  }
  return provisional;
}

function build(policy: SlaPolicy, cal: WorkingCalendar, inp: Inputs): SlaRecord {
  const deptStart = inp.dispatchedAt ?? inp.receivedAt;
  const dispatch = addDuration(cal, inp.receivedAt, policy.dispatch.limit);
  const sign = addDuration(cal, deptStart, policy.sign.limit);
  const contact = addDuration(cal, deptStart, policy.contact.limit);
  const base = addDuration(cal, inp.resolveFrom, policy.resolve.limit);
  const ret = addDuration(cal, deptStart, policy.returnWindow);
  const latest = addDuration(cal, base.ms, policy.maxExtension);
  const resolveMs = inp.extendedTo ?? base.ms;
  const pending: PendingTimer[] = [];
  let provisional =
    dispatch.provisional || sign.provisional || contact.provisional || base.provisional || ret.provisional;
  provisional =
    timersFor(cal, 'dispatch', inp.receivedAt, dispatch.ms, policy.dispatch, policy, pending) || provisional;
  provisional = timersFor(cal, 'sign', deptStart, sign.ms, policy.sign, policy, pending) || provisional;
  provisional = timersFor(cal, 'contact', deptStart, contact.ms, policy.contact, policy, pending) || provisional;
  provisional = timersFor(cal, 'resolve', inp.resolveFrom, resolveMs, policy.resolve, policy, pending) || provisional;
  // Stable sort: at one instant, the order of the clocks above (dispatch, sign, contact, resolve) holds.
  pending.sort((a, b) => a.ms - b.ms);
  const timeline: SlaTimer[] = pending.map((t) => ({
    kind: t.kind,
    stage: t.stage,
    step: t.step,
    at: formatShanghai(t.ms),
  }));
  return {
    generation: inp.generation,
    policyId: policy.id,
    policyVersion: policy.version,
    calendarVersion: cal.version,
    receivedAt: formatShanghai(inp.receivedAt),
    dispatchedAt: inp.dispatchedAt === null ? null : formatShanghai(inp.dispatchedAt),
    resolveFrom: formatShanghai(inp.resolveFrom),
    dispatchDue: formatShanghai(dispatch.ms),
    signDue: formatShanghai(sign.ms),
    contactDue: formatShanghai(contact.ms),
    resolveDue: formatShanghai(resolveMs),
    returnDue: formatShanghai(ret.ms),
    baseResolveDue: formatShanghai(base.ms),
    extendedTo: inp.extendedTo === null ? null : formatShanghai(inp.extendedTo),
    extensionLatest: formatShanghai(latest.ms),
    provisional: provisional || latest.provisional,
    timeline,
    progress: { ...inp.progress },
  };
}

function inputsOf(r: SlaRecord): Inputs {
  return {
    receivedAt: parseInstant(r.receivedAt),
    dispatchedAt: r.dispatchedAt === null ? null : parseInstant(r.dispatchedAt),
    resolveFrom: parseInstant(r.resolveFrom),
    extendedTo: r.extendedTo === null ? null : parseInstant(r.extendedTo),
    generation: r.generation,
    progress: { ...r.progress },
  };
}

const NO_PROGRESS: SlaRecord['progress'] = { dispatch: 0, sign: 0, contact: 0, resolve: 0 };

export interface ComputeOptions {
  /** When the case was dispatched (automatic dispatch at intake); sign, contact and return count from it. */
  dispatchedAt?: string | undefined;
  /** Starting generation (default 1). */
  generation?: number | undefined;
}

/**
 * The deadlines of a new case. `receivedAt`: ISO 8601 with a zone. Resolve limits in working days count from the
 * day after receipt (次日起) and fall due at 23:59:59.999+08:00 of the last working day; hour limits run around the
 * clock. Until dispatch, sign/contact/return are counted from receipt; `markDispatched` moves them.
 */
export function computeDeadlines(
  policy: SlaPolicy,
  receivedAt: string,
  calendar: WorkingCalendar,
  opts: ComputeOptions = {},
): SlaRecord {
  const received = parseInstant(receivedAt);
  const dispatched = opts.dispatchedAt === undefined ? null : parseInstant(opts.dispatchedAt);
  if (dispatched !== null && dispatched < received) throw new RangeError('dispatchedAt is before receivedAt');
  return build(policy, calendar, {
    receivedAt: received,
    dispatchedAt: dispatched,
    resolveFrom: received,
    extendedTo: null,
    generation: opts.generation ?? 1,
    progress: { ...NO_PROGRESS },
  });
}

/** First dispatch after manual triage: the department's sign, contact and return clocks start now. */
export function markDispatched(
  record: SlaRecord,
  policy: SlaPolicy,
  dispatchedAt: string,
  calendar: WorkingCalendar,
): SlaRecord {
  const inp = inputsOf(record);
  return build(policy, calendar, {
    ...inp,
    dispatchedAt: parseInstant(dispatchedAt),
    generation: record.generation + 1,
    progress: { ...inp.progress, sign: 0, contact: 0 },
  });
}

/**
 * 改派 after an approved return: the new department's sign/contact/return clocks start at `redispatchedAt`; the resolve
 * clock restarts too when the policy says `restart` (extensions granted to the old department then lapse), or keeps
 * its due when it says `continue`.
 */
export function restartOnRedispatch(
  record: SlaRecord,
  policy: SlaPolicy,
  redispatchedAt: string,
  calendar: WorkingCalendar,
): SlaRecord {
  const inp = inputsOf(record);
  const at = parseInstant(redispatchedAt);
  const restart = policy.onRedispatch === 'restart';
  return build(policy, calendar, {
    ...inp,
    dispatchedAt: at,
    resolveFrom: restart ? at : inp.resolveFrom,
    extendedTo: restart ? null : inp.extendedTo,
    generation: record.generation + 1,
    progress: { ...inp.progress, sign: 0, contact: 0, resolve: restart ? 0 : inp.progress.resolve },
  });
}

/** 重办 (reopened after an unsatisfied follow-up): the department gets the case back with a full set of limits. */
export function restartOnReopen(
  record: SlaRecord,
  policy: SlaPolicy,
  reopenedAt: string,
  calendar: WorkingCalendar,
): SlaRecord {
  const inp = inputsOf(record);
  const at = parseInstant(reopenedAt);
  return build(policy, calendar, {
    ...inp,
    dispatchedAt: at,
    resolveFrom: at,
    extendedTo: null,
    generation: record.generation + 1,
    progress: { ...inp.progress, sign: 0, contact: 0, resolve: 0 },
  });
}

export type ExtensionResult = { ok: true; record: SlaRecord } | { ok: false; error: CityLoopError };

/**
 * An approved 延期: the resolve deadline moves to `newDue` (a date `YYYY-MM-DD`, due at its end, or an instant).
 * Refused when not later than the current due, past `extensionLatest` (policy maximum counted from the original due),
 * or, with `requestedAt`, when the request came at or after the due time (extensions are asked before expiry).
 */
export function applyExtension(
  record: SlaRecord,
  newDue: string,
  ctx: { policy: SlaPolicy; calendar: WorkingCalendar; requestedAt?: string | undefined },
): ExtensionResult {
  let target: number;
  try {
    target = isIsoDate(newDue) ? endOfShanghaiDay(dayNumber(newDue)) : parseInstant(newDue);
  } catch {
    return { ok: false, error: new CityLoopError('INVALID_DATE', `not a date or instant: ${newDue}`) };
  }
  const due = parseInstant(record.resolveDue);
  if (ctx.requestedAt !== undefined && parseInstant(ctx.requestedAt) >= due) {
    return {
      ok: false,
      error: new CityLoopError('EXTENSION_TOO_LATE', `extensions must be requested before ${record.resolveDue}`, 409),
    };
  }
  if (target <= due) {
    return {
      ok: false,
      error: new CityLoopError('EXTENSION_NOT_LATER', `the new due time must be after ${record.resolveDue}`, 400),
    };
  }
  if (target > parseInstant(record.extensionLatest)) {
    return {
      ok: false,
      error: new CityLoopError('EXTENSION_TOO_LONG', `an extension may reach ${record.extensionLatest} at most`, 400, {
        extensionLatest: record.extensionLatest,
      }),
    };
  }
  const inp = inputsOf(record);
  return {
    ok: true,
    record: build(ctx.policy, ctx.calendar, {
      ...inp,
      extendedTo: target,
      generation: record.generation + 1,
      progress: { ...inp.progress, resolve: 0 },
    }),
  };
}

/**
 * Recomputes a record on a newer calendar (e.g. next year's holidays arrived and `provisional` deadlines can now be
 * exact). Kinds whose timers moved have their progress reset; the generation goes up only if some timer moved.
 */
export function recomputeDeadlines(
  record: SlaRecord,
  policy: SlaPolicy,
  calendar: WorkingCalendar,
): { record: SlaRecord; changed: boolean } {
  const inp = inputsOf(record);
  const fresh = build(policy, calendar, inp);
  const progress = { ...inp.progress };
  let moved = false;
  for (const kind of DEADLINE_KINDS) {
    const before = record.timeline.filter((t) => t.kind === kind).map((t) => `${t.step}@${Date.parse(t.at)}`);
    const after = fresh.timeline.filter((t) => t.kind === kind).map((t) => `${t.step}@${Date.parse(t.at)}`);
    if (before.join() !== after.join()) {
      moved = true;
      progress[kind] = 0;
    }
  }
  const next: SlaRecord = { ...fresh, progress, generation: moved ? record.generation + 1 : record.generation };
  const changed =
    moved ||
    record.provisional !== next.provisional ||
    record.calendarVersion !== next.calendarVersion ||
    record.extensionLatest !== next.extensionLatest ||
    record.returnDue !== next.returnDue;
  return { record: changed ? next : record, changed };
}

/** The due instant of one kind. */
export function dueOf(r: SlaRecord, kind: DeadlineKind): string {
  switch (kind) {
    case 'dispatch':
      return r.dispatchDue;
    case 'sign':
      return r.signDue;
    case 'contact':
      return r.contactDue;
    case 'resolve':
      return r.resolveDue;
  }
}
