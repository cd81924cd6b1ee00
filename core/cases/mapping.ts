/**
 * Case ↔ CaseSnapshot: the stored case (`core/case.ts`, written by triage and the lifecycle) and the machine's view
 * of it (`core/lifecycle/types.ts`). Pure.
 *
 * - `citizenRef` is not stored: it is `citizenKey(case.citizen)` (a digest of phone, openid or email), so a citizen
 *   actor proves who they are with the contact of their own report, never with an id we hand out.
 * - `windows`: the stored ones when the lifecycle has written them, else derived from the SLA record in `deadlines`,
 *   else all null (unchecked).
 * - Triage's opening history records lack `version`/`department`; `auditTrail` fills them in for views.
 */
import type { Case, HistoryEntry } from '../case.ts';
import type { AuditRecord, CaseCounts, CaseSnapshot, CaseTimestamps, TimeWindows } from '../lifecycle/types.ts';
import { citizenKey } from '../privacy.ts';
import { asSlaRecord, timeWindows } from '../sla/deadlines.ts';

const NO_WINDOWS: TimeWindows = { returnBy: null, dueAt: null, extensionLatest: null };
const NO_COUNTS: CaseCounts = { reopenCount: 0, returnCount: 0, extensionCount: 0, redispatchCount: 0 };

/** The citizen reference the machine compares a citizen actor's id with; null for anonymous reports. */
export function citizenRefOf(c: Pick<Case, 'citizen'>): string | null {
  return c.citizen?.anonymous ? null : (citizenKey(c.citizen) ?? null);
}

export function windowsOf(c: Pick<Case, 'windows' | 'deadlines'>): TimeWindows {
  if (c.windows) return { ...c.windows };
  const record = asSlaRecord(c.deadlines);
  return record ? timeWindows(record) : { ...NO_WINDOWS };
}

function timestampsOf(c: Case): CaseTimestamps {
  if (c.timestamps) return { ...c.timestamps };
  return {
    receivedAt: c.receivedAt,
    dispatchedAt: c.dispatchedAt ?? null,
    signedAt: null,
    firstContactAt: null,
    resolvedAt: null,
    closedAt: null,
    archivedAt: null,
  };
}

/** The machine's view of a stored case. */
export function toSnapshot(c: Case): CaseSnapshot {
  return {
    caseId: c.caseId,
    state: c.state,
    version: c.version,
    department: c.department ?? null,
    category: c.category ?? null,
    nature: c.nature ?? null,
    citizenRef: citizenRefOf(c),
    pending: c.pending ?? null,
    windows: windowsOf(c),
    deadlines: c.deadlines ?? {},
    counts: c.counts ? { ...c.counts } : { ...NO_COUNTS },
    timestamps: timestampsOf(c),
    satisfaction: c.satisfaction ?? null,
    resolvedFlag: c.resolvedFlag ?? null,
  };
}

export interface ApplyContext {
  /** Chinese name of a category code (事项清单), for the case's classification when the category changes. */
  categoryName?: (code: string) => string | undefined;
}

/**
 * The stored case after an accepted action: the machine's `next` merged into the case, the audit record appended to
 * the history. `pendingEvents` and `announcedVersion` are the caller's (the service sets what is owed).
 */
export function applySnapshot(c: Case, next: CaseSnapshot, audit: AuditRecord, ctx: ApplyContext = {}): Case {
  const out: Case = {
    ...c,
    state: next.state,
    version: next.version,
    nature: next.nature ?? c.nature,
    updatedAt: audit.at,
    pending: next.pending,
    windows: { ...next.windows },
    counts: { ...next.counts },
    timestamps: { ...next.timestamps },
    satisfaction: next.satisfaction,
    resolvedFlag: next.resolvedFlag,
    history: [...c.history, audit],
  };
  if (next.department === null) delete out.department;
  else out.department = next.department;
  if (next.timestamps.dispatchedAt === null) delete out.dispatchedAt;
  else out.dispatchedAt = next.timestamps.dispatchedAt;
  if (next.category !== (c.category ?? null)) {
    if (next.category === null) delete out.category;
    else {
      out.category = next.category;
      const name = ctx.categoryName?.(next.category);
      out.classification = {
        ...c.classification,
        category: next.category,
        ...(name ? { categoryName: name } : {}),
        confidence: 1,
        decision: 'manual',
        reason: `人工${audit.action === 'assignTriage' ? '分拨' : '改派'} by ${audit.actor.role}`,
      };
      if (!name) delete out.classification.categoryName;
    }
  }
  return out;
}

const REDISPATCH: ReadonlySet<string> = new Set(['approveReturn', 'redispatch']);

/**
 * The history as audit records, in order: triage's opening records get the department they were written under
 * (walking back from the case's current department through every 改派's `previousDepartment`), an ordinal version,
 * and the machine's action name; triage's 转人工分拨 becomes internal (the citizen only sees 已受理).
 */
export function auditTrail(c: Pick<Case, 'history' | 'department'>): AuditRecord[] {
  const out: AuditRecord[] = new Array(c.history.length);
  let current: string | null = c.department ?? null;
  for (let i = c.history.length - 1; i >= 0; i--) {
    const h = c.history[i] as HistoryEntry;
    const to = h.to ?? 'received';
    const department =
      h.department !== undefined ? h.department : to === 'received' || to === 'triage' ? null : current;
    const triageRequired = h.action === 'triageRequired';
    const { version: _v, department: _d, action: _a, to: _t, ...rest } = h;
    out[i] = {
      ...rest,
      version: i + 1,
      action: triageRequired ? 'queueForTriage' : (h.action as AuditRecord['action']),
      to,
      department,
      visibility: triageRequired ? 'internal' : h.visibility,
    };
    // The department before this entry: a re-dispatch names where the case came from.
    const previous = h.details?.previousDepartment;
    if (REDISPATCH.has(h.action) && typeof previous === 'string') current = previous;
    else if (h.department !== undefined) current = h.department;
  }
  return out;
}
