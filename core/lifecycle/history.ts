/**
 * What a citizen may see of their case (the tracking-number page): public steps only, no staff names or ids,
 * no internal notes or reasons, Chinese labels.
 */
import type { Attachment } from '#core/intake/schema.ts';
import {
  ACTION_LABELS,
  type AuditAction,
  type CaseState,
  PUBLIC_ROLE_LABELS,
  PUBLIC_STATE_LABELS,
  STATE_LABELS,
} from './states.ts';
import type { AuditRecord, CaseSnapshot } from './types.ts';

export interface PublicHistoryEntry {
  at: string;
  action: AuditAction;
  /** e.g. 派单, 签收, 办结反馈, 回访（重办）. */
  label: string;
  /** The citizen-facing status after this step, e.g. 处理中. */
  status: string;
  /** Who, as a role only: 市民, 12345热线, 承办单位. */
  by: string;
  /** The handling department after a (re-)dispatch: public (承办单位). */
  department?: { id: string; name: string };
  /** Words meant for the citizen: the answer, the result, the 不予受理 reason, the citizen's own additions. */
  text?: string;
  attachments?: Attachment[];
  /** After an approved extension: the new due time. */
  dueAt?: string;
}

/** Public steps whose `reason` is addressed to the citizen; other reasons (改派, 延期批准 ...) are the centre's own. */
const CITIZEN_REASON: ReadonlySet<AuditAction> = new Set(['reject', 'reopen']);

const WITH_DEPARTMENT: ReadonlySet<AuditAction> = new Set([
  'dispatch',
  'assignTriage',
  'approveReturn',
  'redispatch',
  'reopen',
  'recordFollowUp',
]);

/**
 * The citizen's view of an audit trail, in version order. `departmentName` maps a department id to its Chinese name
 * (from config/departments.json); without it the id is shown.
 */
export function publicHistory(
  audit: readonly AuditRecord[],
  departmentName: (id: string) => string | undefined = () => undefined,
): PublicHistoryEntry[] {
  return audit
    .filter((r) => r.visibility === 'public')
    .toSorted((x, y) => x.version - y.version)
    .map((r) => {
      const entry: PublicHistoryEntry = {
        at: r.at,
        action: r.action,
        label: labelOf(r),
        status: PUBLIC_STATE_LABELS[r.to],
        by: PUBLIC_ROLE_LABELS[r.actor.role],
      };
      // 改派 may start from dispatched too (the case goes to another department without being signed).
      if (r.department !== null && WITH_DEPARTMENT.has(r.action) && r.to === 'dispatched') {
        entry.department = { id: r.department, name: departmentName(r.department) ?? r.department };
      }
      const words = CITIZEN_REASON.has(r.action) ? r.reason : r.text;
      if (words !== undefined) entry.text = words;
      if (r.attachments !== undefined && r.attachments.length > 0) entry.attachments = r.attachments;
      const dueAt = r.details?.newDueAt;
      if (r.action === 'approveExtension' && typeof dueAt === 'string') entry.dueAt = dueAt;
      return entry;
    });
}

function labelOf(r: AuditRecord): string {
  if (r.action === 'recordFollowUp') return r.to === 'dispatched' ? '回访（未解决，重办）' : '回访（办结）';
  if (r.action === 'approveReturn') return '改派';
  if (r.action === 'approveExtension') return '办理时限延长';
  return ACTION_LABELS[r.action];
}

/** Staff-facing status of a case, e.g. 签收（延期申请中）. */
export function stateLabel(snapshot: Pick<CaseSnapshot<unknown>, 'state' | 'pending'>): string {
  const base = STATE_LABELS[snapshot.state];
  return snapshot.pending?.kind === 'extension' ? `${base}（延期申请中）` : base;
}

/** Citizen-facing status of a case, e.g. 处理中. */
export const publicStatus = (state: CaseState): string => PUBLIC_STATE_LABELS[state];
