/**
 * What a citizen may see of their request: status, the handling department, and the public history, without staff
 * names or ids, internal notes or reasons, or other reporters' contact details (labels from the lifecycle machine).
 *
 * Two levels: with a proof of ownership (`verified`: the notice token, or the phone's last 4 digits, checked by the
 * caller) the history carries the words meant for the citizen (the result, the answer, their own additions) and
 * attachments; with the tracking number alone (sequential, guessable) only the steps, statuses and departments.
 */
import type { Case } from '../case.ts';
import { auditTrail, windowsOf } from '../cases/mapping.ts';
import type { Attachment } from '../intake/schema.ts';
import { type PublicHistoryEntry, publicHistory } from '../lifecycle/history.ts';
import type { CaseState } from '../lifecycle/states.ts';
import { PUBLIC_STATE_LABELS } from '../lifecycle/states.ts';
import type { StoredReport } from '../ports.ts';
import type { Department } from '../taxonomy/types.ts';

/** Citizen-facing status ids: internal steps (人工分拨, 退单申请, the centre's review) read as what the citizen knows. */
export type PublicStatus = 'received' | 'rejected' | 'dispatched' | 'processing' | 'followUp' | 'closed' | 'answered';

export const PUBLIC_STATUS: Readonly<Record<CaseState, PublicStatus>> = {
  received: 'received',
  triage: 'received',
  rejected: 'rejected',
  dispatched: 'dispatched',
  signed: 'processing',
  returnRequested: 'processing',
  resolved: 'processing',
  followUp: 'followUp',
  closed: 'closed',
  archived: 'closed',
  answered: 'answered',
};

/** What a citizen can do on the page, once verified. */
export type CitizenAction = 'addInformation' | 'followUp';

export interface CitizenHistoryEntry {
  at: string;
  action: string;
  /** e.g. 派单, 签收, 办结反馈. */
  label: string;
  /** Citizen-facing status after the step, e.g. 处理中. */
  stateLabel: string;
  /** Who, as a role: 市民, 12345热线, 承办单位. */
  by: string;
  department?: { id: string; name: string };
  text?: string;
  attachments?: Attachment[];
  dueAt?: string;
}

export interface CitizenView {
  trackingNo: string;
  status: PublicStatus;
  statusLabel: string;
  department: { id: string; name: string } | null;
  category: { code: string; name: string } | null;
  title: string;
  channel: string;
  receivedAt: string;
  updatedAt: string;
  /** How many citizens reported the same problem (并案), when more than one. */
  reportCount?: number;
  /** True when the caller proved the request is theirs: texts and attachments are included. */
  verified: boolean;
  /** Verified only: what the citizen may do now. */
  actions?: CitizenAction[];
  /** Verified only, while the department handles it: the current due time. */
  dueAt?: string;
  history: CitizenHistoryEntry[];
}

export interface CitizenViewOptions {
  /** Default true: callers that authenticated the citizen themselves (the mini-program's "mine") see everything. */
  verified?: boolean;
  /** Whether this reporter may act on the case (the filer, by contact); default: verified. */
  mayAct?: boolean;
}

const ACTIVE: ReadonlySet<CaseState> = new Set([
  'received',
  'triage',
  'dispatched',
  'signed',
  'returnRequested',
  'resolved',
  'followUp',
]);
const HANDLING: ReadonlySet<CaseState> = new Set(['dispatched', 'signed', 'returnRequested']);

function entry(h: PublicHistoryEntry, verified: boolean): CitizenHistoryEntry {
  return {
    at: h.at,
    action: h.action,
    label: h.label,
    stateLabel: h.status,
    by: h.by,
    ...(h.department ? { department: h.department } : {}),
    ...(verified && h.text !== undefined ? { text: h.text } : {}),
    ...(verified && h.attachments !== undefined ? { attachments: h.attachments } : {}),
    ...(h.dueAt !== undefined ? { dueAt: h.dueAt } : {}),
  };
}

export function citizenView(
  report: StoredReport,
  c: Case | undefined,
  departments: Department[],
  opts: CitizenViewOptions = {},
): CitizenView {
  const verified = opts.verified ?? true;
  const r = report.request;
  if (!c) {
    return {
      trackingNo: report.trackingNo,
      status: 'received',
      statusLabel: PUBLIC_STATE_LABELS.received,
      department: null,
      category: null,
      title: r.title,
      channel: r.channel,
      receivedAt: r.receivedAt,
      updatedAt: report.acceptedAt,
      verified,
      ...(verified ? { actions: [] } : {}),
      history: [
        {
          at: report.acceptedAt,
          action: 'receive',
          label: '受理',
          stateLabel: PUBLIC_STATE_LABELS.received,
          by: '12345热线',
          ...(verified ? { text: '诉求已受理，正在分拨' } : {}),
        },
      ],
    };
  }
  const name = (id: string) => departments.find((d) => d.id === id)?.name;
  // The manual-triage desk is not a handling department for the citizen: show 已受理 without a department.
  const dept =
    c.state === 'triage' || c.state === 'received' ? undefined : departments.find((d) => d.id === c.department);
  const mayAct = opts.mayAct ?? verified;
  const actions: CitizenAction[] = [];
  if (verified && mayAct) {
    if (ACTIVE.has(c.state)) actions.push('addInformation');
    if (c.state === 'followUp') actions.push('followUp');
  }
  const due = HANDLING.has(c.state) ? windowsOf(c).dueAt : null;
  return {
    trackingNo: report.trackingNo,
    status: PUBLIC_STATUS[c.state],
    statusLabel: PUBLIC_STATE_LABELS[c.state],
    department: dept ? { id: dept.id, name: dept.name } : null,
    category: c.category ? { code: c.category, name: c.classification.categoryName ?? c.category } : null,
    title: r.title,
    channel: r.channel,
    receivedAt: r.receivedAt,
    updatedAt: c.updatedAt,
    ...(c.reportCount > 1 ? { reportCount: c.reportCount } : {}),
    verified,
    ...(verified ? { actions } : {}),
    ...(verified && due ? { dueAt: due } : {}),
    history: publicHistory(auditTrail(c), name).map((h) => entry(h, verified)),
  };
}
