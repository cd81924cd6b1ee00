/**
 * Shapes of the case lifecycle: the case as the machine sees it, who acts, and the trace each step leaves.
 * Every optional value is `null` rather than absent, so a snapshot always has the same keys (one UpdateItem SETs them).
 */
import * as z from 'zod/mini';
import { type Attachment, NATURES, type Nature } from '#core/intake/schema.ts';
import {
  type AuditAction,
  CASE_STATES,
  type CaseState,
  ROLES,
  type Role,
  SATISFACTION,
  type Satisfaction,
} from './states.ts';

export const ID_MAX = 128;
export const CODE_MAX = 64;
export const REASON_MAX = 1000;

export const Actor = z.object({
  role: z.enum(ROLES),
  /** Staff id, system component name, or the citizen's opaque reference (`CaseSnapshot.citizenRef`). */
  id: z.string().check(z.minLength(1), z.maxLength(ID_MAX)),
  /** For `department` actors: the department they act for; they may act only on cases assigned to it. */
  department: z.optional(z.string().check(z.minLength(1), z.maxLength(CODE_MAX))),
});
export type Actor = z.infer<typeof Actor>;

/** A request awaiting the supervisor. Only one at a time. */
export type PendingRequest =
  | {
      kind: 'return';
      reason: string;
      requestedAt: string;
      requestedBy: { role: Role; id: string };
      /** Where `rejectReturn` sends the case back to. */
      from: 'dispatched' | 'signed';
    }
  | {
      kind: 'extension';
      reason: string;
      requestedAt: string;
      requestedBy: { role: Role; id: string };
      /** The due instant asked for (ISO 8601 with offset). */
      newDueAt: string;
    };

/**
 * The limits the machine checks, as instants (ISO 8601 with offset) computed by the SLA engine on the working
 * calendar; the machine has no calendar and only compares. `null` = no limit known, the check is skipped.
 * They are reset to null whenever the department clock restarts (any entry into `dispatched`); the SLA engine
 * fills them again for the new handling cycle. `approveExtension` sets `dueAt` to the granted date.
 */
export interface TimeWindows {
  /** 退单时限: `requestReturn` is refused after this. */
  returnBy: string | null;
  /** 办理时限: `requestExtension` must come before this, and ask for a later date. */
  dueAt: string | null;
  /** The latest date an extension may reach (e.g. original due + 10 working days). */
  extensionLatest: string | null;
}

/** Lifetime counts of the case (never reset), for 重办率, 退单率 and the SLA engine's policies. */
export interface CaseCounts {
  reopenCount: number;
  returnCount: number;
  extensionCount: number;
  redispatchCount: number;
}

/** Timestamps of the current handling cycle (a re-dispatch or reopen clears the department-side ones). */
export interface CaseTimestamps {
  receivedAt: string;
  dispatchedAt: string | null;
  signedAt: string | null;
  firstContactAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  archivedAt: string | null;
}

/**
 * The case as the lifecycle sees it. `deadlines` belongs to the SLA engine: the machine copies it unchanged
 * (type parameter `D` lets the SLA engine type it).
 */
export interface CaseSnapshot<D = Record<string, unknown>> {
  caseId: string;
  state: CaseState;
  /** Optimistic-lock version: every accepted action returns `version + 1`. */
  version: number;
  /** The department currently handling it (承办单位), null before dispatch. */
  department: string | null;
  category: string | null;
  nature: Nature | null;
  /** Opaque reference of the citizen who filed it; a citizen actor must present it as `id`. */
  citizenRef: string | null;
  pending: PendingRequest | null;
  windows: TimeWindows;
  deadlines: D;
  counts: CaseCounts;
  timestamps: CaseTimestamps;
  /** Latest 回访 result; kept through a 重办 until the next follow-up replaces it. */
  satisfaction: Satisfaction | null;
  resolvedFlag: boolean | null;
}

const iso = z.iso.datetime({ offset: true });
const nullableIso = z.nullable(iso);
const who = z.object({ role: z.enum(ROLES), id: z.string() });
const count = z.number().check(z.int(), z.gte(0));

/** For reading a stored snapshot back (e.g. from DynamoDB) and checking its shape. */
export const CaseSnapshotSchema = z.object({
  caseId: z.string().check(z.minLength(1), z.maxLength(ID_MAX)),
  state: z.enum(CASE_STATES),
  version: z.number().check(z.int(), z.gte(0)),
  department: z.nullable(z.string()),
  category: z.nullable(z.string()),
  nature: z.nullable(z.enum(NATURES)),
  citizenRef: z.nullable(z.string()),
  pending: z.nullable(
    z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('return'),
        reason: z.string(),
        requestedAt: iso,
        requestedBy: who,
        from: z.enum(['dispatched', 'signed']),
      }),
      z.object({ kind: z.literal('extension'), reason: z.string(), requestedAt: iso, requestedBy: who, newDueAt: iso }),
    ]),
  ),
  windows: z.object({ returnBy: nullableIso, dueAt: nullableIso, extensionLatest: nullableIso }),
  deadlines: z.record(z.string(), z.unknown()),
  counts: z.object({ reopenCount: count, returnCount: count, extensionCount: count, redispatchCount: count }),
  timestamps: z.object({
    receivedAt: iso,
    dispatchedAt: nullableIso,
    signedAt: nullableIso,
    firstContactAt: nullableIso,
    resolvedAt: nullableIso,
    closedAt: nullableIso,
    archivedAt: nullableIso,
  }),
  satisfaction: z.nullable(z.enum(SATISFACTION)),
  resolvedFlag: z.nullable(z.boolean()),
});

/**
 * 全要素留痕: one record per accepted action. `actor.id` is staff-only; `publicHistory` drops it.
 * In a `public` record, `text` and the `reason` of 不予受理/重办 are written for the citizen; staff words on public
 * steps (sign, contact, follow-up notes) are in `details.note`.
 */
export interface AuditRecord {
  at: string;
  /** The case version this action produced (caseId + version is a natural, idempotent key). */
  version: number;
  actor: { role: Role; id: string };
  action: AuditAction;
  /** Absent only for `receive` (the case did not exist before). */
  from?: CaseState;
  to: CaseState;
  /** The department handling the case after the action. */
  department: string | null;
  reason?: string;
  text?: string;
  attachments?: Attachment[];
  /** Action-specific facts: previousDepartment, category, newDueAt, satisfaction, resolved, note, firstContact ... */
  details?: Record<string, string | number | boolean>;
  visibility: 'public' | 'internal';
}

/**
 * What goes on the bus. Top-level keys name the case as it is now (the same keys as the triage event, so a caller
 * may spread this detail over a richer case detail); what happened is under `transition`.
 */
export interface LifecycleEvent {
  /** `Case.<Transition>`; every entry into `dispatched` is `Case.Dispatched`, so the per-department rule routes it. */
  detailType: string;
  detail: {
    /** `<caseId>:<version>:<detailType>`: consumers drop redeliveries by it. */
    eventId: string;
    caseId: string;
    version: number;
    state: CaseState;
    department: string | null;
    category: string | null;
    nature: Nature | null;
    transition: Omit<AuditRecord, 'version' | 'department'>;
  };
}
