/**
 * The SLA record through the case lifecycle: what one accepted step does to `Case.deadlines` and to the windows the
 * machine checks (`Case.windows`). Pure. The lifecycle service calls it between `applySnapshot` and the write:
 *
 *   const sla = slaAfterTransition(before, after, audit.action, audit.at);
 *   if (!sla.ok) throw sla.error;            // an approved extension the engine cannot grant (4xx)
 *   after.deadlines = sla.deadlines; after.windows = sla.windows;
 *
 * - 派单 / 人工分拨 (entering `dispatched` from received/triage): the department's sign, contact and return clocks start
 *   (`markDispatched`); the policy is resolved again, so a category picked by manual triage brings its own limits.
 * - 转人工分拨: the record is computed if triage did not (the dispatch clock runs while the case waits).
 * - 改派 (approveReturn, redispatch): `restartOnRedispatch` (the policy says whether the resolve clock restarts).
 * - 重办 (reopen, dissatisfied or unresolved follow-up): `restartOnReopen`, a full new set of limits.
 * - 延期批准: `applyExtension` to the granted date, checked against the policy's maximum and the request time.
 * - every other step leaves the record as it is (the due index follows the state: a signed case's sign clock stops
 *   because the clock no longer runs in `signed`, not because the record changed).
 * A case without a record (written before the SLA engine) gets one at its next step.
 */
import type { Case } from '../case.ts';
import type { CityLoopError } from '../errors.ts';
import type { TimeWindows } from '../lifecycle/types.ts';
import { defaultSlaEnv, policyForCase, type SlaEnv } from './case-sla.ts';
import {
  applyExtension,
  asSlaRecord,
  computeDeadlines,
  markDispatched,
  restartOnRedispatch,
  restartOnReopen,
  type SlaRecord,
  timeWindows,
} from './deadlines.ts';

export type SlaTransition =
  | {
      ok: true;
      /** The record to store as `Case.deadlines` (undefined: the case has none and this step starts no clock). */
      deadlines: SlaRecord | undefined;
      /** The windows to store as `Case.windows`. */
      windows: TimeWindows;
      /** Whether the record changed (a new generation, or a first record). */
      changed: boolean;
    }
  | { ok: false; error: CityLoopError };

type SlaCase = Pick<Case, 'caseId' | 'state' | 'nature' | 'urgency' | 'category' | 'receivedAt' | 'deadlines'> &
  Partial<Pick<Case, 'windows' | 'pending' | 'timestamps' | 'dispatchedAt' | 'department'>>;

const NO_WINDOWS: TimeWindows = { returnBy: null, dueAt: null, extensionLatest: null };

const REDISPATCH = new Set(['approveReturn', 'redispatch']);
const FIRST_DISPATCH = new Set(['dispatch', 'assignTriage']);
const CYCLE_STARTS = new Set([...FIRST_DISPATCH, ...REDISPATCH, 'reopen', 'recordFollowUp']);

/**
 * The SLA record and windows after one accepted step. `before`/`after`: the stored case before the step and after
 * it (`applySnapshot`); `action`: the machine's action type; `now`: the step's instant (ISO with offset).
 */
export function slaAfterTransition(
  before: SlaCase,
  after: SlaCase,
  action: string,
  now: string,
  env: SlaEnv = defaultSlaEnv(),
): SlaTransition {
  const record = asSlaRecord(before.deadlines);
  const policy = () => policyForCase(after, env);
  // A new handling cycle: every entry into `dispatched` except 退单驳回 (which only gives the case back).
  const cycle = after.state === 'dispatched' && CYCLE_STARTS.has(action);
  let next: SlaRecord | undefined = record;

  if (cycle) {
    if (!record) {
      next = computeDeadlines(policy(), after.receivedAt, env.calendar, { dispatchedAt: later(now, after.receivedAt) });
    } else if (FIRST_DISPATCH.has(action)) {
      next = markDispatched(record, policy(), now, env.calendar);
    } else if (REDISPATCH.has(action)) {
      next = restartOnRedispatch(record, policy(), now, env.calendar);
    } else {
      // 重办: `reopen`, or a follow-up that found the case unresolved or the citizen dissatisfied.
      next = restartOnReopen(record, policy(), now, env.calendar);
    }
  } else if (action === 'approveExtension' && record) {
    const newDue = after.windows?.dueAt ?? (before.pending?.kind === 'extension' ? before.pending.newDueAt : null);
    if (newDue) {
      const requestedAt = before.pending?.kind === 'extension' ? before.pending.requestedAt : undefined;
      const r = applyExtension(record, newDue, { policy: policy(), calendar: env.calendar, requestedAt });
      if (!r.ok) return { ok: false, error: r.error };
      next = r.record;
    }
  } else if (!record && (action === 'queueForTriage' || after.state === 'triage')) {
    next = computeDeadlines(policy(), after.receivedAt, env.calendar);
  } else if (!record && hasDepartmentClock(after.state)) {
    const dispatchedAt = after.timestamps?.dispatchedAt ?? after.dispatchedAt ?? null;
    next = computeDeadlines(policy(), after.receivedAt, env.calendar, {
      dispatchedAt: dispatchedAt === null ? undefined : later(dispatchedAt, after.receivedAt),
    });
  }
  return {
    ok: true,
    deadlines: next,
    windows: next ? timeWindows(next) : { ...(after.windows ?? NO_WINDOWS) },
    changed: next !== record,
  };
}

function hasDepartmentClock(state: string): boolean {
  return state === 'signed' || state === 'returnRequested';
}

/** The later of two instants (the dispatch instant never precedes the receipt). */
function later(a: string, b: string): string {
  return Date.parse(a) < Date.parse(b) ? b : a;
}

/**
 * The same as a `DeadlinesHook` of the case service (`(before, after, audit) → { deadlines, windows } | undefined`):
 * throws the CityLoopError (4xx) when an approved extension cannot be granted; undefined when the case has no record
 * and the step starts none.
 */
export function slaHook(env?: SlaEnv) {
  return (
    before: SlaCase,
    after: SlaCase,
    audit: { action: string; at: string },
  ): { deadlines: Record<string, unknown>; windows: TimeWindows } | undefined => {
    const r = slaAfterTransition(before, after, audit.action, audit.at, env ?? defaultSlaEnv());
    if (!r.ok) throw r.error;
    return r.deadlines
      ? { deadlines: r.deadlines as unknown as Record<string, unknown>, windows: r.windows }
      : undefined;
  };
}
