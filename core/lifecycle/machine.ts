/**
 * The case lifecycle as one pure function: (case, action, actor, now) → next case + audit record + bus event,
 * or an error value. No I/O: the caller writes `next` with ONE conditional UpdateItem (expected state + version),
 * stores `audit` and puts `event` on the bus.
 *
 * Checks run in a fixed order, so a caller learns only what it is entitled to:
 *   shape (INVALID_TIME / INVALID_ACTOR / INVALID_ACTION) → role (FORBIDDEN_ROLE) → ownership (NOT_YOUR_CASE)
 *   → state (ILLEGAL_TRANSITION, PENDING_REQUEST, NO_PENDING_REQUEST, NOT_A_CONSULTATION)
 *   → time windows (RETURN_WINDOW_CLOSED, EXTENSION_TOO_LATE) → payload (REASON_REQUIRED ...) → rules.
 */

import type { CityLoopError } from '#core/errors.ts';
import type { Attachment } from '#core/intake/schema.ts';
import { type Action, ActionSchema } from './actions.ts';
import { type LifecycleErrorCode, lifecycleError } from './errors.ts';
import {
  ACTION_FROM,
  ACTION_ROLES,
  ACTION_TYPES,
  type ActionType,
  type AuditAction,
  CASE_STATES,
  type CaseState,
  STATE_LABELS,
} from './states.ts';
import { Actor, type AuditRecord, type CaseSnapshot, type LifecycleEvent } from './types.ts';

export type ApplyResult<D = Record<string, unknown>> =
  | { ok: true; next: CaseSnapshot<D>; audit: AuditRecord; event: LifecycleEvent }
  | { ok: false; error: CityLoopError };

type Details = Record<string, string | number | boolean>;

/** What one action changes, besides state, version and the trace. */
interface Step {
  to: CaseState;
  visibility: 'public' | 'internal';
  /** Event detail-type suffix; entries into `dispatched` always use `Dispatched`. */
  event: string;
  reason?: string;
  text?: string;
  attachments?: Attachment[];
  details?: Details;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds of an ISO instant, or null when it is not one. */
const instant = (value: unknown): number | null => {
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
};

const filled = (value: string | undefined): value is string => typeof value === 'string' && value.trim().length > 0;

const isSnapshot = (s: unknown): s is CaseSnapshot<unknown> => {
  if (typeof s !== 'object' || s === null) return false;
  const c = s as Partial<CaseSnapshot<unknown>>;
  return (
    typeof c.caseId === 'string' &&
    typeof c.version === 'number' &&
    Number.isInteger(c.version) &&
    (CASE_STATES as readonly unknown[]).includes(c.state) &&
    typeof c.windows === 'object' &&
    c.windows !== null &&
    typeof c.counts === 'object' &&
    c.counts !== null &&
    typeof c.timestamps === 'object' &&
    c.timestamps !== null &&
    (c.pending === null || typeof c.pending === 'object')
  );
};

/** A refusal as plain data: building an Error (stack capture) costs ~10 µs, too much for `allowedActions`. */
interface Refusal {
  code: LifecycleErrorCode;
  message: string;
  details?: unknown;
}

const refusal = (code: LifecycleErrorCode, message: string, details?: unknown): Refusal =>
  details === undefined ? { code, message } : { code, message, details };

/**
 * The checks that do not depend on the action's payload: role, ownership, state, pending request, time windows.
 * Shared by `applyAction` and `allowedActions`, so a UI never offers what the machine would refuse for these reasons.
 */
function precondition(s: CaseSnapshot<unknown>, actor: Actor, type: ActionType, now: number | null): Refusal | null {
  if (!ACTION_ROLES[type].includes(actor.role)) {
    return refusal('FORBIDDEN_ROLE', `role ${actor.role} may not ${type}`);
  }
  if (actor.role === 'department' && (actor.department === undefined || actor.department !== s.department)) {
    return refusal('NOT_YOUR_CASE', 'this case is not assigned to your department');
  }
  if (actor.role === 'citizen' && (s.citizenRef === null || actor.id !== s.citizenRef)) {
    return refusal('NOT_YOUR_CASE', 'this case was not filed by you');
  }
  if (!ACTION_FROM[type].includes(s.state)) {
    return refusal('ILLEGAL_TRANSITION', `${type} is not possible in state ${s.state} (${STATE_LABELS[s.state]})`, {
      state: s.state,
      action: type,
    });
  }
  if ((type === 'approveExtension' || type === 'rejectExtension') && s.pending?.kind !== 'extension') {
    return refusal('NO_PENDING_REQUEST', 'no extension request is pending');
  }
  if ((type === 'requestExtension' || type === 'requestReturn') && s.pending !== null) {
    return refusal('PENDING_REQUEST', `a ${s.pending.kind} request is already pending`);
  }
  if (type === 'answer' && s.nature !== '咨询') {
    return refusal('NOT_A_CONSULTATION', 'only a consultation (咨询) can be answered directly');
  }
  if (now !== null && type === 'requestReturn') {
    const returnBy = instant(s.windows.returnBy);
    if (returnBy !== null && now > returnBy) {
      return refusal('RETURN_WINDOW_CLOSED', `returns had to be requested by ${s.windows.returnBy}`);
    }
  }
  if (now !== null && type === 'requestExtension') {
    const dueAt = instant(s.windows.dueAt);
    if (dueAt !== null && now >= dueAt) {
      return refusal('EXTENSION_TOO_LATE', `extensions must be requested before the due time ${s.windows.dueAt}`);
    }
  }
  return null;
}

/** A copy deep enough that `next` shares no mutable part with the input (deadlines stay shared: never modified). */
const copy = <D>(s: CaseSnapshot<D>): CaseSnapshot<D> => ({
  ...s,
  windows: { ...s.windows },
  counts: { ...s.counts },
  timestamps: { ...s.timestamps },
});

/**
 * Every entry into `dispatched` starts a new handling cycle at `department`: the department side is reset and the
 * time windows are cleared for the SLA engine to compute again (its policy decides whether the clock restarts).
 */
function enterDispatched(n: CaseSnapshot<unknown>, department: string, at: string): void {
  n.department = department;
  n.pending = null;
  n.timestamps.dispatchedAt = at;
  n.timestamps.signedAt = null;
  n.timestamps.firstContactAt = null;
  n.timestamps.resolvedAt = null;
  n.timestamps.closedAt = null;
  n.windows = { returnBy: null, dueAt: null, extensionLatest: null };
}

type Outcome = Step | CityLoopError;

/** Payload checks and effects, one branch per action. `n` is the copy that becomes `next`. */
function step(s: CaseSnapshot<unknown>, n: CaseSnapshot<unknown>, a: Action, actor: Actor, now: string): Outcome {
  switch (a.type) {
    case 'dispatch':
    case 'assignTriage': {
      if (!filled(a.department)) return lifecycleError('DEPARTMENT_REQUIRED', 'a department is required');
      if (a.type === 'assignTriage' && !filled(a.category)) {
        return lifecycleError('CATEGORY_REQUIRED', 'manual triage must set the category');
      }
      if (filled(a.category)) n.category = a.category;
      enterDispatched(n, a.department, now);
      return { to: 'dispatched', visibility: 'public', event: 'Dispatched', details: catDetails(n) };
    }
    case 'queueForTriage':
      return { to: 'triage', visibility: 'internal', event: 'TriageRequired', ...opt('reason', a.reason) };
    case 'reject':
      if (!filled(a.reason)) return lifecycleError('REASON_REQUIRED', '不予受理 needs a reason');
      return { to: 'rejected', visibility: 'public', event: 'Rejected', reason: a.reason };
    case 'answer':
      if (!filled(a.text)) return lifecycleError('TEXT_REQUIRED', 'the answer text is required');
      n.timestamps.closedAt = now;
      return {
        to: 'answered',
        visibility: 'public',
        event: 'Answered',
        text: a.text,
        ...opt('attachments', a.attachments),
      };
    case 'sign':
      n.timestamps.signedAt = now;
      return { to: 'signed', visibility: 'public', event: 'Signed', details: note(a.text) };
    case 'contact': {
      const first = n.timestamps.firstContactAt === null;
      if (first) n.timestamps.firstContactAt = now;
      return {
        to: 'signed',
        visibility: 'public',
        event: 'Contacted',
        details: { ...note(a.text), firstContact: first },
      };
    }
    case 'requestReturn': {
      if (!filled(a.reason)) return lifecycleError('REASON_REQUIRED', '退单 needs a reason');
      const from = s.state === 'signed' ? 'signed' : 'dispatched';
      n.pending = { kind: 'return', reason: a.reason, requestedAt: now, requestedBy: who(actor), from };
      return {
        to: 'returnRequested',
        visibility: 'internal',
        event: 'ReturnRequested',
        reason: a.reason,
        ...opt('attachments', a.attachments),
      };
    }
    case 'approveReturn':
    case 'redispatch': {
      if (!filled(a.department)) return lifecycleError('DEPARTMENT_REQUIRED', 're-dispatch needs the new department');
      if (a.type === 'redispatch' && !filled(a.reason)) return lifecycleError('REASON_REQUIRED', '改派 needs a reason');
      if (a.department === s.department) {
        return lifecycleError('SAME_DEPARTMENT', 're-dispatch must go to another department', {
          department: a.department,
        });
      }
      const previousDepartment = s.department ?? '';
      const returnReason = s.pending?.kind === 'return' ? s.pending.reason : undefined;
      if (filled(a.category)) n.category = a.category;
      if (a.type === 'approveReturn') n.counts.returnCount += 1;
      else n.counts.redispatchCount += 1;
      enterDispatched(n, a.department, now);
      const details: Details = { ...catDetails(n), previousDepartment };
      if (returnReason !== undefined) details.returnReason = returnReason;
      return { to: 'dispatched', visibility: 'public', event: 'Dispatched', ...opt('reason', a.reason), details };
    }
    case 'rejectReturn': {
      if (!filled(a.reason)) return lifecycleError('REASON_REQUIRED', '退单驳回 needs a reason');
      const back =
        s.pending?.kind === 'return' ? s.pending.from : s.timestamps.signedAt === null ? 'dispatched' : 'signed';
      n.pending = null;
      return { to: back, visibility: 'internal', event: 'ReturnRejected', reason: a.reason };
    }
    case 'requestExtension': {
      if (!filled(a.reason)) return lifecycleError('REASON_REQUIRED', '延期申请 needs a reason');
      if (a.newDueAt === undefined) return lifecycleError('DUE_DATE_REQUIRED', '延期申请 needs the new due date');
      const wanted = instant(a.newDueAt);
      const dueAt = instant(s.windows.dueAt);
      const nowMs = instant(now);
      if (wanted === null || nowMs === null || wanted <= (dueAt ?? nowMs)) {
        return lifecycleError('INVALID_DUE_DATE', 'the new due date must be later than the current one', {
          dueAt: s.windows.dueAt,
        });
      }
      const latest = instant(s.windows.extensionLatest);
      if (latest !== null && wanted > latest) {
        return lifecycleError('EXTENSION_TOO_LONG', `an extension may reach ${s.windows.extensionLatest} at most`, {
          extensionLatest: s.windows.extensionLatest,
        });
      }
      n.pending = {
        kind: 'extension',
        reason: a.reason,
        requestedAt: now,
        requestedBy: who(actor),
        newDueAt: a.newDueAt,
      };
      return {
        to: 'signed',
        visibility: 'internal',
        event: 'ExtensionRequested',
        reason: a.reason,
        details: { newDueAt: a.newDueAt },
      };
    }
    case 'approveExtension': {
      // precondition() guarantees an extension is pending.
      const pending = s.pending?.kind === 'extension' ? s.pending : null;
      const newDueAt = pending?.newDueAt ?? '';
      const details: Details = { newDueAt };
      if (s.windows.dueAt !== null) details.previousDueAt = s.windows.dueAt;
      n.windows.dueAt = newDueAt;
      n.pending = null;
      n.counts.extensionCount += 1;
      return { to: 'signed', visibility: 'public', event: 'ExtensionApproved', ...opt('reason', a.reason), details };
    }
    case 'rejectExtension':
      if (!filled(a.reason)) return lifecycleError('REASON_REQUIRED', '延期驳回 needs a reason');
      n.pending = null;
      return { to: 'signed', visibility: 'internal', event: 'ExtensionRejected', reason: a.reason };
    case 'resolve': {
      if (!filled(a.text)) return lifecycleError('TEXT_REQUIRED', '办结反馈 needs the result text');
      const withdrew = s.pending?.kind === 'extension';
      n.pending = null;
      n.timestamps.resolvedAt = now;
      return {
        to: 'resolved',
        visibility: 'public',
        event: 'Resolved',
        text: a.text,
        ...opt('attachments', a.attachments),
        ...(withdrew ? { details: { extensionWithdrawn: true } } : {}),
      };
    }
    case 'approveClosure':
      return { to: 'followUp', visibility: 'internal', event: 'ClosureApproved', ...opt('text', a.text) };
    case 'rejectClosure':
      if (!filled(a.reason)) return lifecycleError('REASON_REQUIRED', '审核退回 needs a reason');
      n.timestamps.resolvedAt = null;
      return { to: 'signed', visibility: 'internal', event: 'ClosureRejected', reason: a.reason };
    case 'recordFollowUp': {
      if (a.satisfaction === undefined || a.resolved === undefined) {
        return lifecycleError('FOLLOW_UP_RESULT_REQUIRED', '回访 needs satisfaction and resolved yes/no');
      }
      if (s.department === null) return lifecycleError('DEPARTMENT_REQUIRED', 'the case has no department');
      n.satisfaction = a.satisfaction;
      n.resolvedFlag = a.resolved;
      const details: Details = { satisfaction: a.satisfaction, resolved: a.resolved };
      if (a.satisfaction === '不满意' || !a.resolved) {
        // 重办: back to the same department.
        n.counts.reopenCount += 1;
        enterDispatched(n, s.department, now);
        return {
          to: 'dispatched',
          visibility: 'public',
          event: 'Dispatched',
          details: { ...details, ...note(a.text), reopened: true },
        };
      }
      n.timestamps.closedAt = now;
      return {
        to: 'closed',
        visibility: 'public',
        event: 'Closed',
        details: { ...details, ...note(a.text), reopened: false },
      };
    }
    case 'reopen': {
      if (!filled(a.reason)) return lifecycleError('REASON_REQUIRED', '重办 needs a reason');
      if (s.department === null)
        return lifecycleError('DEPARTMENT_REQUIRED', 'the case has no department to reopen to');
      n.counts.reopenCount += 1;
      enterDispatched(n, s.department, now);
      return {
        to: 'dispatched',
        visibility: 'public',
        event: 'Dispatched',
        reason: a.reason,
        details: { reopened: true },
      };
    }
    case 'archive':
      n.timestamps.archivedAt = now;
      return { to: 'archived', visibility: 'public', event: 'Archived' };
    case 'addNote':
      if (!filled(a.text)) return lifecycleError('TEXT_REQUIRED', 'a note needs text');
      return {
        to: s.state,
        visibility: a.visibility ?? 'internal',
        event: 'NoteAdded',
        text: a.text,
        ...opt('attachments', a.attachments),
      };
    case 'citizenUpdate':
      if (!filled(a.text)) return lifecycleError('TEXT_REQUIRED', 'the added information is required');
      return {
        to: s.state,
        visibility: 'public',
        event: 'CitizenUpdated',
        text: a.text,
        ...opt('attachments', a.attachments),
      };
  }
}

const who = (actor: Actor): { role: Actor['role']; id: string } => ({ role: actor.role, id: actor.id });

/**
 * Staff words on a step the citizen sees (sign, contact, follow-up) go to `details.note`, not `text`: in a public
 * record, `text` is always meant for the citizen, so any citizen view may show it.
 */
const note = (text: string | undefined): Details => (filled(text) ? { note: text } : {});

const catDetails = (n: CaseSnapshot<unknown>): Details => (n.category === null ? {} : { category: n.category });

/** `{ [key]: value }` when the value is present, else `{}`: keeps optional audit fields absent rather than undefined. */
function opt<K extends 'reason' | 'text' | 'attachments', V>(key: K, value: V | undefined): { [P in K]?: V } {
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) return {};
  if (Array.isArray(value) && value.length === 0) return {};
  return { [key]: value } as { [P in K]?: V };
}

/**
 * Applies one action. Never throws; never mutates its arguments. `now` is the instant of the action (ISO 8601
 * with offset, e.g. from the Clock port); all audit and timestamps use it.
 */
export function applyAction<D = Record<string, unknown>>(
  snapshot: CaseSnapshot<D>,
  action: Action,
  actor: Actor,
  now: string,
): ApplyResult<D> {
  try {
    return apply(snapshot, action, actor, now);
  } catch (e) {
    // Unreachable by design (the fuzz test checks it); a bug must still come back as a value, not a crash.
    return { ok: false, error: lifecycleError('INVALID_SNAPSHOT', `internal error: ${(e as Error)?.message ?? e}`) };
  }
}

function apply<D>(snapshot: CaseSnapshot<D>, action: Action, actor: Actor, now: string): ApplyResult<D> {
  const nowMs = instant(now);
  if (nowMs === null) return fail('INVALID_TIME', 'now must be an ISO 8601 instant with an offset');
  if (!isSnapshot(snapshot)) return fail('INVALID_SNAPSHOT', 'not a case snapshot');
  const parsedActor = Actor.safeParse(actor);
  if (!parsedActor.success) return fail('INVALID_ACTOR', 'actor needs a known role and an id');
  const parsedAction = ActionSchema.safeParse(action);
  if (!parsedAction.success) {
    return fail('INVALID_ACTION', 'not a valid action', {
      issues: parsedAction.error.issues.map((i) => i.path.join('.')),
    });
  }
  const a = parsedAction.data;
  const by = parsedActor.data;
  const refused = precondition(snapshot, by, a.type, nowMs);
  if (refused) return fail(refused.code, refused.message, refused.details);

  const n = copy(snapshot);
  const outcome = step(snapshot, n as CaseSnapshot<unknown>, a, by, now);
  if (!('to' in outcome)) return { ok: false, error: outcome };

  n.state = outcome.to;
  n.version = snapshot.version + 1;
  const audit: AuditRecord = {
    at: now,
    version: n.version,
    actor: who(by),
    action: a.type,
    from: snapshot.state,
    to: outcome.to,
    department: n.department,
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    ...(outcome.text === undefined ? {} : { text: outcome.text }),
    ...(outcome.attachments === undefined ? {} : { attachments: outcome.attachments }),
    ...(outcome.details === undefined || Object.keys(outcome.details).length === 0 ? {} : { details: outcome.details }),
    visibility: outcome.visibility,
  };
  return { ok: true, next: n, audit, event: toEvent(n, audit, outcome.event) };
}

const fail = (code: LifecycleErrorCode, message: string, details?: unknown): { ok: false; error: CityLoopError } => ({
  ok: false,
  error: lifecycleError(code, message, details),
});

function toEvent(n: CaseSnapshot<unknown>, audit: AuditRecord, name: string): LifecycleEvent {
  const { version: _v, department: _d, ...transition } = audit;
  const detailType = `Case.${name}`;
  return {
    detailType,
    detail: {
      eventId: `${n.caseId}:${n.version}:${detailType}`,
      caseId: n.caseId,
      version: n.version,
      state: n.state,
      department: n.department,
      category: n.category,
      nature: n.nature,
      transition,
    },
  };
}

/**
 * Actions `actor` may take on this case now, for UIs (buttons) and API discovery. Payload checks (reason present,
 * another department, date within the maximum extension) are not known yet and stay with `applyAction`.
 * With `now`, actions outside their time window (return window, extension before due) are left out.
 */
export function allowedActions(snapshot: CaseSnapshot<unknown>, actor: Actor, now?: string): ActionType[] {
  if (!isSnapshot(snapshot) || !Actor.safeParse(actor).success) return [];
  const nowMs = now === undefined ? null : instant(now);
  return ACTION_TYPES.filter((type) => precondition(snapshot, actor, type, nowMs) === null);
}

export interface OpenCaseInit<D = Record<string, unknown>> {
  caseId: string;
  /** ISO 8601 with offset: when the request was received (受理). */
  receivedAt: string;
  nature?: CaseSnapshot['nature'];
  category?: string | null;
  citizenRef?: string | null;
  deadlines: D;
}

/**
 * A new case in `received` at version 1, with its 受理 audit record and a `Case.Received` event. Triage then applies
 * `dispatch`, `queueForTriage`, `answer` or `reject` (in memory, before the first write if it likes).
 */
export function receiveCase<D = Record<string, unknown>>(init: OpenCaseInit<D>, actor: Actor): ApplyResult<D> {
  if (typeof init?.caseId !== 'string' || init.caseId.length === 0)
    return fail('INVALID_SNAPSHOT', 'caseId is required');
  if (instant(init.receivedAt) === null)
    return fail('INVALID_TIME', 'receivedAt must be an ISO 8601 instant with an offset');
  const parsedActor = Actor.safeParse(actor);
  if (!parsedActor.success) return fail('INVALID_ACTOR', 'actor needs a known role and an id');
  const next: CaseSnapshot<D> = {
    caseId: init.caseId,
    state: 'received',
    version: 1,
    department: null,
    category: init.category ?? null,
    nature: init.nature ?? null,
    citizenRef: init.citizenRef ?? null,
    pending: null,
    windows: { returnBy: null, dueAt: null, extensionLatest: null },
    deadlines: init.deadlines,
    counts: { reopenCount: 0, returnCount: 0, extensionCount: 0, redispatchCount: 0 },
    timestamps: {
      receivedAt: init.receivedAt,
      dispatchedAt: null,
      signedAt: null,
      firstContactAt: null,
      resolvedAt: null,
      closedAt: null,
      archivedAt: null,
    },
    satisfaction: null,
    resolvedFlag: null,
  };
  const action: AuditAction = 'receive';
  const audit: AuditRecord = {
    at: init.receivedAt,
    version: 1,
    actor: who(parsedActor.data),
    action,
    to: 'received',
    department: null,
    ...(next.category === null ? {} : { details: { category: next.category } }),
    visibility: 'public',
  };
  return { ok: true, next, audit, event: toEvent(next as CaseSnapshot<unknown>, audit, 'Received') };
}
