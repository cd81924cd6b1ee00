/**
 * The caller's history as the agent needs it while the phone rings: how many reports this number filed, and the
 * cases still open (a repeat caller usually calls about one of them: 催办, 补充). Reports are found by the citizen
 * digest (GSI2, `core/privacy.ts`), their cases read by id; a report triage has not reached yet counts as open.
 */
import type { Case } from '#core/case.ts';
import type { Citizen } from '#core/intake/schema.ts';
import { type CaseState, CONCLUDED_STATES } from '#core/lifecycle/states.ts';
import type { StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import { type CaseSummary, caseSummary } from '#core/views/staff.ts';

export interface CallerCases {
  /** Reports this contact filed (up to the lookup limit). */
  knownReports: number;
  /** The contact filed more reports than were read (`knownReports` is then the lookup limit): show it as "N+". */
  knownReportsMore?: boolean;
  /** Open cases, newest first. */
  open: CaseSummary[];
}

export interface CallerLookup {
  listReportsOfCitizen(key: string, limit?: number): Promise<StoredReport[]>;
  getCase(caseId: string): Promise<Case | undefined>;
}

const CLOSED: ReadonlySet<CaseState> = new Set([...CONCLUDED_STATES, 'archived']);

/**
 * Reports of a caller read per lookup, newest first (one Query; ~1 KB each). A frequent caller files a report per
 * call about the same case (催办, 补充), so this is far more than the cases shown.
 */
export const CALLER_LOOKUP_LIMIT = 100;
/** Distinct cases of those reports looked up (in parallel), newest first. */
export const CALLER_CASES_CHECKED = 30;

/** A report waiting for triage, shown as the 受理 step it is in. */
function pendingSummary(r: StoredReport): CaseSummary {
  return {
    caseId: r.trackingNo,
    trackingNo: r.trackingNo,
    version: 0,
    state: 'received',
    stateLabel: '受理',
    department: null,
    departmentName: null,
    category: r.request.categoryHint ?? null,
    categoryName: null,
    nature: r.request.nature ?? '求助',
    urgency: 'normal',
    title: r.request.title,
    receivedAt: r.request.receivedAt,
    dispatchedAt: null,
    dueAt: null,
    pending: null,
    reportCount: 1,
    updatedAt: r.acceptedAt,
  };
}

export async function casesOfCitizen(
  store: CallerLookup,
  citizen: Citizen | undefined,
  departmentName: (id: string) => string | undefined,
  limit = CALLER_LOOKUP_LIMIT,
): Promise<CallerCases> {
  const key = citizenKey(citizen);
  if (!key) return { knownReports: 0, open: [] };
  const reports = await store.listReportsOfCitizen(key, limit);
  const byCase = new Map<string, StoredReport>();
  for (const r of reports) {
    const id = r.caseId ?? r.trackingNo;
    if (!byCase.has(id)) byCase.set(id, r);
  }
  const newest = [...byCase].slice(0, CALLER_CASES_CHECKED);
  const found = await Promise.all(newest.map(async ([id, r]) => ({ report: r, c: await store.getCase(id) })));
  const open: CaseSummary[] = [];
  for (const { report, c } of found) {
    if (!c) open.push(pendingSummary(report));
    else if (!CLOSED.has(c.state)) open.push(caseSummary(c, departmentName));
  }
  open.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  return { knownReports: reports.length, ...(reports.length >= limit ? { knownReportsMore: true } : {}), open };
}
