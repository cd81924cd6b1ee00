/**
 * Reconciliation: the invariant "nothing accepted is ever lost, nothing is filed twice", checked over the whole
 * store. Pure: the caller reads the reports and cases (a paginated Scan in `cityloop verify`, memory in tests) and
 * this decides. One function for every place that counts (the CLI, the soak, the fault-injection tests), so they
 * cannot disagree.
 *
 * The invariant, for every accepted report R (an `RPT#` item) with tracking number T:
 * 1. R ends on exactly one case: `R.caseId` when triage attached it to another case (repeat, incident), else its
 *    own case `CASE#T`; that case exists (a report younger than the grace period may still be in the intake queue:
 *    it is listed as pending, not as a violation);
 * 2. no other case claims R (lists T among its reporters, or is R's own case while R is attached elsewhere);
 * 3. no two reports share T;
 * 4. every case is opened by a stored report (its own `trackingNo`);
 * 5. a case version is announced on the bus within the grace period (`announcedVersion < version` for longer is an
 *    announcement owed: listed, and a violation once overdue).
 */

/** What reconciliation needs of a stored report. */
export interface ReportFacts {
  trackingNo: string;
  idemKey: string;
  /** ISO 8601 with an offset. */
  acceptedAt: string;
  /** Set when triage attached the report to a case other than its own. */
  caseId?: string;
  relation?: string;
}

/** What reconciliation needs of a stored case. */
export interface CaseFacts {
  caseId: string;
  trackingNo: string;
  version: number;
  announcedVersion: number;
  /** ISO 8601 with an offset: when the current version was written. */
  updatedAt: string;
  state: string;
  department?: string;
  /** Tracking numbers of the reporters the case lists (capped on the item; `reportCount` is the total). */
  reporters: string[];
}

export type ViolationKind =
  | 'REPORT_WITHOUT_CASE'
  | 'REPORT_ON_TWO_CASES'
  | 'TRACKING_NO_REUSED'
  | 'CASE_WITHOUT_REPORT'
  | 'ANNOUNCEMENT_OWED';

export interface Violation {
  kind: ViolationKind;
  trackingNo?: string;
  caseId?: string;
  /** Other cases involved (REPORT_ON_TWO_CASES) or other reports (TRACKING_NO_REUSED, their idempotency keys). */
  others?: string[];
  message: string;
}

export interface Owed {
  caseId: string;
  version: number;
  announcedVersion: number;
  updatedAt: string;
  /** Older than the grace period. */
  overdue: boolean;
}

export interface Reconciliation {
  reports: number;
  cases: number;
  /** Reports that end on exactly one existing case. */
  settled: number;
  /** Reports younger than the grace period whose case does not exist yet (still in the intake queue). */
  pending: { trackingNo: string; acceptedAt: string }[];
  owed: Owed[];
  violations: Violation[];
  /** Tracking number → the case it ends on (settled reports only). */
  caseOf: Map<string, string>;
}

export interface ReconcileOptions {
  now: Date;
  /** Minutes a report may wait for its case, and a case version for its announcement; default 15. */
  graceMinutes?: number;
}

const ageMs = (iso: string, now: Date): number => {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? now.getTime() - t : Number.POSITIVE_INFINITY;
};

export function reconcile(
  reports: Iterable<ReportFacts>,
  cases: Iterable<CaseFacts>,
  opts: ReconcileOptions,
): Reconciliation {
  const graceMs = (opts.graceMinutes ?? 15) * 60_000;
  const violations: Violation[] = [];
  const caseById = new Map<string, CaseFacts>();
  for (const c of cases) caseById.set(c.caseId, c);

  // Which cases claim each tracking number: the opener and every listed reporter.
  const claimers = new Map<string, Set<string>>();
  const claim = (tn: string, caseId: string) => {
    const s = claimers.get(tn) ?? new Set<string>();
    s.add(caseId);
    claimers.set(tn, s);
  };
  for (const c of caseById.values()) {
    claim(c.trackingNo, c.caseId);
    for (const tn of c.reporters) claim(tn, c.caseId);
  }

  const byTn = new Map<string, ReportFacts[]>();
  let count = 0;
  for (const r of reports) {
    count++;
    const list = byTn.get(r.trackingNo);
    if (list) list.push(r);
    else byTn.set(r.trackingNo, [r]);
  }

  const pending: Reconciliation['pending'] = [];
  const caseOf = new Map<string, string>();
  for (const [tn, list] of byTn) {
    if (list.length > 1) {
      violations.push({
        kind: 'TRACKING_NO_REUSED',
        trackingNo: tn,
        others: list.map((r) => r.idemKey),
        message: `受理编号 ${tn} 被 ${list.length} 份诉求共用 tracking number shared by ${list.length} reports`,
      });
    }
    const r = list[0]!;
    const target = r.caseId ?? r.trackingNo;
    const targetCase = caseById.get(target);
    if (!targetCase) {
      if (ageMs(r.acceptedAt, opts.now) <= graceMs) pending.push({ trackingNo: tn, acceptedAt: r.acceptedAt });
      else {
        violations.push({
          kind: 'REPORT_WITHOUT_CASE',
          trackingNo: tn,
          caseId: target,
          message: `诉求 ${tn} 受理于 ${r.acceptedAt}，工单 ${target} 不存在 accepted report has no case`,
        });
      }
      continue;
    }
    const others = [...(claimers.get(tn) ?? [])].filter((id) => id !== target);
    if (others.length > 0) {
      violations.push({
        kind: 'REPORT_ON_TWO_CASES',
        trackingNo: tn,
        caseId: target,
        others,
        message: `诉求 ${tn} 属于工单 ${target}，又被工单 ${others.join(', ')} 认领 report claimed by more than one case`,
      });
      continue;
    }
    caseOf.set(tn, target);
  }

  for (const c of caseById.values()) {
    if (!byTn.has(c.trackingNo)) {
      violations.push({
        kind: 'CASE_WITHOUT_REPORT',
        caseId: c.caseId,
        trackingNo: c.trackingNo,
        message: `工单 ${c.caseId} 没有对应的受理记录 ${c.trackingNo} case has no report`,
      });
    }
  }

  const owed: Owed[] = [];
  for (const c of caseById.values()) {
    if (c.announcedVersion >= c.version) continue;
    const overdue = ageMs(c.updatedAt, opts.now) > graceMs;
    owed.push({
      caseId: c.caseId,
      version: c.version,
      announcedVersion: c.announcedVersion,
      updatedAt: c.updatedAt,
      overdue,
    });
    if (overdue) {
      violations.push({
        kind: 'ANNOUNCEMENT_OWED',
        caseId: c.caseId,
        trackingNo: c.trackingNo,
        message: `工单 ${c.caseId} 第 ${c.version} 版自 ${c.updatedAt} 起未通知 version not announced (announced ${c.announcedVersion})`,
      });
    }
  }
  owed.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));

  return { reports: count, cases: caseById.size, settled: caseOf.size, pending, owed, violations, caseOf };
}

/**
 * The soak's and the tests' tally for the tracking numbers a client was given: lost (no report, or no case after
 * the system was drained), duplicated (a report claimed by two cases, or one submission given two numbers).
 */
export function tallyAccepted(
  rec: Reconciliation,
  reports: Iterable<ReportFacts>,
  accepted: Iterable<{ trackingNo: string; submission?: string }>,
): { accepted: number; lost: string[]; duplicated: string[] } {
  const known = new Set<string>();
  for (const r of reports) known.add(r.trackingNo);
  const twice = new Set(
    rec.violations
      .filter((v) => v.kind === 'REPORT_ON_TWO_CASES' || v.kind === 'TRACKING_NO_REUSED')
      .map((v) => v.trackingNo),
  );
  const lost: string[] = [];
  const duplicated = new Set<string>();
  const numbersOf = new Map<string, Set<string>>();
  let n = 0;
  for (const a of accepted) {
    n++;
    if (!known.has(a.trackingNo) || !rec.caseOf.has(a.trackingNo)) {
      if (!twice.has(a.trackingNo)) lost.push(a.trackingNo);
    }
    if (twice.has(a.trackingNo)) duplicated.add(a.trackingNo);
    if (a.submission !== undefined) {
      const s = numbersOf.get(a.submission) ?? new Set<string>();
      s.add(a.trackingNo);
      numbersOf.set(a.submission, s);
    }
  }
  for (const s of numbersOf.values()) if (s.size > 1) for (const tn of s) duplicated.add(tn);
  return { accepted: n, lost: [...new Set(lost)], duplicated: [...duplicated] };
}

/** A message found in a queue, for the routing check. */
export interface QueuedCaseMessage {
  queueId: string;
  /** The department whose queue this is (department queues only). */
  queueDepartment?: string;
  eventId?: string;
  caseId?: string;
  detailType?: string;
  /** `detail.department` of the event. */
  department?: string;
}

export interface QueueCheck {
  /** A department queue holding an event addressed to another department: a routing fault. */
  misrouted: QueuedCaseMessage[];
  /** An event for a case that has since moved to another department (改派): expected, shown for information. */
  stale: QueuedCaseMessage[];
  /** An event for a case the store does not know. */
  unknown: QueuedCaseMessage[];
  /** Copies of the same event (same eventId) seen more than once: at-least-once delivery, dropped by consumers. */
  repeats: number;
}

export function checkQueues(messages: Iterable<QueuedCaseMessage>, cases: ReadonlyMap<string, CaseFacts>): QueueCheck {
  const out: QueueCheck = { misrouted: [], stale: [], unknown: [], repeats: 0 };
  const seen = new Set<string>();
  for (const m of messages) {
    if (m.eventId) {
      if (seen.has(m.eventId)) out.repeats++;
      seen.add(m.eventId);
    }
    if (m.queueDepartment === undefined) continue;
    if (m.department !== undefined && m.department !== m.queueDepartment) {
      out.misrouted.push(m);
      continue;
    }
    const c = m.caseId ? cases.get(m.caseId) : undefined;
    if (!c) out.unknown.push(m);
    else if (c.department !== m.queueDepartment) out.stale.push(m);
  }
  return out;
}
