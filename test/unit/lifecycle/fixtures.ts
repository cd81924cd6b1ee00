/**
 * Hand-written case snapshots, one per row of the transition table: written out here, not produced by the machine,
 * so the tests check the machine against an independent picture of each state.
 */
import type { Actor, CaseSnapshot, PendingRequest } from '#core/lifecycle/types.ts';

export const NOW = '2025-10-10T10:00:00+08:00';
export const DEPT = 'zhujian';
export const OTHER_DEPT = 'shuiwu';
export const CITIZEN = 'citizen-ref-1';

export const WINDOWS = {
  returnBy: '2025-10-13T23:59:59+08:00',
  dueAt: '2025-10-20T23:59:59+08:00',
  extensionLatest: '2025-11-03T23:59:59+08:00',
} as const;

export const ROWS = [
  'received',
  'triage',
  'dispatched',
  'signed',
  'signedExtensionPending',
  'returnFromDispatched',
  'returnFromSigned',
  'resolved',
  'followUp',
  'closed',
  'answered',
  'rejected',
  'archived',
] as const;
export type Row = (typeof ROWS)[number];

const requestedBy = { role: 'department', id: 'dept-user-1' } as const;

const base = (): CaseSnapshot => ({
  caseId: 'C20251010-0001',
  state: 'received',
  version: 1,
  department: null,
  category: null,
  nature: '咨询',
  citizenRef: CITIZEN,
  pending: null,
  windows: { returnBy: null, dueAt: null, extensionLatest: null },
  deadlines: { generation: 3, resolveBy: '2025-10-20T23:59:59+08:00' },
  counts: { reopenCount: 0, returnCount: 0, extensionCount: 0, redispatchCount: 0 },
  timestamps: {
    receivedAt: '2025-10-09T09:00:00+08:00',
    dispatchedAt: null,
    signedAt: null,
    firstContactAt: null,
    resolvedAt: null,
    closedAt: null,
    archivedAt: null,
  },
  satisfaction: null,
  resolvedFlag: null,
});

const assigned = (patch: Partial<CaseSnapshot>, timestamps: Partial<CaseSnapshot['timestamps']> = {}): CaseSnapshot => {
  const b = base();
  return {
    ...b,
    department: DEPT,
    category: 'ZJ-01-02',
    nature: '投诉',
    windows: { ...WINDOWS },
    ...patch,
    timestamps: { ...b.timestamps, dispatchedAt: '2025-10-09T09:05:00+08:00', ...timestamps },
  };
};

const signedAt = { signedAt: '2025-10-09T10:00:00+08:00' };
const extension: PendingRequest = {
  kind: 'extension',
  reason: '需协调燃气公司',
  requestedAt: '2025-10-10T09:00:00+08:00',
  requestedBy,
  newDueAt: '2025-10-27T23:59:59+08:00',
};
const returnFrom = (from: 'dispatched' | 'signed'): PendingRequest => ({
  kind: 'return',
  reason: '非本单位职责',
  requestedAt: '2025-10-10T09:00:00+08:00',
  requestedBy,
  from,
});
const resolvedAt = {
  ...signedAt,
  firstContactAt: '2025-10-09T11:00:00+08:00',
  resolvedAt: '2025-10-10T08:00:00+08:00',
};

export function fixture(row: Row): CaseSnapshot {
  switch (row) {
    case 'received':
      return base();
    case 'triage':
      // Triage leaves manual cases at the centre's desk (core/routing.ts MANUAL_TRIAGE).
      return { ...base(), state: 'triage', version: 2, department: 'centre' };
    case 'dispatched':
      return assigned({ state: 'dispatched', version: 2 });
    case 'signed':
      return assigned({ state: 'signed', version: 3 }, signedAt);
    case 'signedExtensionPending':
      return assigned({ state: 'signed', version: 4, pending: extension }, signedAt);
    case 'returnFromDispatched':
      return assigned({ state: 'returnRequested', version: 3, pending: returnFrom('dispatched') });
    case 'returnFromSigned':
      return assigned({ state: 'returnRequested', version: 4, pending: returnFrom('signed') }, signedAt);
    case 'resolved':
      return assigned({ state: 'resolved', version: 5 }, resolvedAt);
    case 'followUp':
      return assigned({ state: 'followUp', version: 6 }, resolvedAt);
    case 'closed':
      return assigned(
        { state: 'closed', version: 7, satisfaction: '满意', resolvedFlag: true },
        { ...resolvedAt, closedAt: '2025-10-10T09:00:00+08:00' },
      );
    case 'answered':
      return {
        ...base(),
        state: 'answered',
        version: 2,
        timestamps: { ...base().timestamps, closedAt: '2025-10-09T09:10:00+08:00' },
      };
    case 'rejected':
      return { ...base(), state: 'rejected', version: 2, nature: '投诉' };
    case 'archived':
      return assigned(
        { state: 'archived', version: 8, satisfaction: '满意', resolvedFlag: true },
        { ...resolvedAt, closedAt: '2025-10-10T09:00:00+08:00', archivedAt: '2025-10-10T09:30:00+08:00' },
      );
  }
}

/** The actor of `role` that owns the case where ownership applies (its department, the citizen who filed it). */
export function ownerActor(role: Actor['role'], snapshot: CaseSnapshot): Actor {
  switch (role) {
    case 'department':
      return snapshot.department === null
        ? { role, id: 'dept-user-1', department: DEPT }
        : { role, id: 'dept-user-1', department: snapshot.department };
    case 'citizen':
      return { role, id: CITIZEN };
    case 'agent':
      return { role, id: 'agent-007' };
    case 'supervisor':
      return { role, id: 'sup-li' };
    case 'system':
      return { role, id: 'triage' };
  }
}

/** Deep-freezes a value, so any mutation by the code under test throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
