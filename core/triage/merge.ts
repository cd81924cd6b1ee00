/**
 * 重复件 / 并案 in triage, the pure part: what the dedupe engine is given for a report, and what a case becomes when a
 * report joins it (one conditional write of the whole case: reporter, counts, history entry, owed events).
 *
 * - A repeat (重复件, same citizen) adds the report to the reporters and a history entry; the citizen count stays.
 * - An incident report (并案, another citizen) also adds 1 to `reportCount` (the number the department and the
 *   citizens see: "N 位市民反映").
 * - No `Case.Dispatched` for a merged report: the department's queue got the case once. When the engine says the
 *   distinct reporters crossed a growth threshold (5, 20, 100 …), `Case.IncidentGrew` is owed (→ 督办 queue).
 * - Idempotent: `mergedReports` keeps the tracking numbers of the last `MERGED_RING` merged reports, so a redelivered
 *   report that was already applied changes nothing (the report item's link is checked first; the ring covers a crash
 *   between the case write and the link).
 * - Bounded item size: at most `MAX_REPORTERS_INLINE` reporters inline, and a history entry for each of the first
 *   `MAX_MERGE_HISTORY` merged reports, then only for threshold crossings and 重办 (each report item keeps its link).
 */
import { type Case, type HistoryEntry, MAX_REPORTERS_INLINE, reporterRef } from '../case.ts';
import type { DedupeResult } from '../dedupe/engine.ts';
import type { DedupeReport } from '../dedupe/features.ts';
import type { Citizen, Location } from '../intake/schema.ts';
import type { BusEvent, StoredReport } from '../ports.ts';
import { caseEvent, channelLabel } from './triage.ts';

export const MERGED_RING = 200;
export const MAX_MERGE_HISTORY = 100;

export type LatLonConverter = (p: { lat: number; lon: number; datum?: 'WGS84' | 'GCJ02' }) => {
  lat: number;
  lon: number;
};

/** What the engine needs of a report or of a draft being typed (an agent's, a citizen's in the mini-program). */
export interface DedupeSource {
  id: string;
  receivedAt: string;
  text: string;
  title?: string;
  channel?: string;
  location?: Location;
  citizen?: Citizen;
}

/** The engine's input for a report or a draft: coordinates in WGS-84, the street and address as one line. */
export function dedupeInputOf(src: DedupeSource, category?: string, toWgs84?: LatLonConverter): DedupeReport {
  const loc = src.location;
  let coords: { lat: number; lon: number } | undefined;
  if (loc?.lat !== undefined && loc.lon !== undefined) {
    const point = { lat: loc.lat, lon: loc.lon };
    coords = toWgs84 ? toWgs84({ ...point, ...(loc.datum ? { datum: loc.datum } : {}) }) : point;
  }
  const address = [loc?.street, loc?.address].filter(Boolean).join(' ');
  const location =
    coords || address
      ? { ...(coords ? { lat: coords.lat, lon: coords.lon } : {}), ...(address ? { address } : {}) }
      : undefined;
  const c = src.citizen;
  const citizen =
    c && !c.anonymous
      ? {
          ...(c.phone ? { phone: c.phone } : {}),
          ...(c.openid ? { openid: c.openid } : {}),
          ...(c.email ? { email: c.email } : {}),
        }
      : undefined;
  return {
    id: src.id,
    receivedAt: src.receivedAt,
    text: src.text,
    ...(src.title ? { title: src.title } : {}),
    ...(src.channel ? { channel: src.channel } : {}),
    ...(category ? { category } : {}),
    ...(location ? { location } : {}),
    ...(citizen && Object.keys(citizen).length > 0 ? { citizen } : {}),
  };
}

/**
 * The engine's view of a report: its tracking number is the report id (a redelivery has the same one), the
 * classifier's category groups it, coordinates in WGS-84. No channel message id: intake already made the same
 * channel message one report, so the engine's resubmission check is the content hash (same citizen, same text
 * within minutes: a double click with a new idempotency key, a message sent twice).
 */
export function dedupeReportOf(report: StoredReport, category?: string, toWgs84?: LatLonConverter): DedupeReport {
  const r = report.request;
  return dedupeInputOf(
    {
      id: report.trackingNo,
      receivedAt: r.receivedAt,
      text: r.text,
      title: r.title,
      channel: r.channel,
      ...(r.location ? { location: r.location } : {}),
      citizen: r.citizen,
    },
    category,
    toWgs84,
  );
}

export type MergeRelation = 'repeat' | 'incident';

export interface MergeInput {
  report: StoredReport;
  relation: MergeRelation;
  dedupe: Pick<DedupeResult, 'reporterCount' | 'crossed' | 'explanation' | 'score' | 'reopen'>;
  /** ISO time of the write. */
  now: string;
  departmentName?: (id: string | undefined) => string | undefined;
}

/** Whether this report was already applied to the case (a redelivery). */
export function alreadyMerged(c: Case, trackingNo: string): boolean {
  const ring = c.mergedReports;
  if (Array.isArray(ring) && ring.includes(trackingNo)) return true;
  return c.trackingNo === trackingNo || c.reporters.some((x) => x.trackingNo === trackingNo && x.relation !== 'new');
}

/** Events an earlier version still owes the bus, as they were (same `eventId`s), so a merge never buries them. */
export function owedBefore(c: Case, departmentName?: (id: string | undefined) => string | undefined): BusEvent[] {
  if (c.announcedVersion >= c.version) return [];
  if (c.pendingEvents?.length) return c.pendingEvents;
  return c.version === 1
    ? [caseEvent(c, c.state === 'triage' ? 'Case.TriageRequired' : 'Case.Dispatched', departmentName?.(c.department))]
    : [];
}

/** `Case.IncidentGrew` (热点): the case passed `threshold` distinct reporters. One event per version. */
export function incidentGrewEvent(
  c: Case,
  crossed: readonly number[],
  reporterCount: number,
  departmentName?: (id: string | undefined) => string | undefined,
): BusEvent {
  const base = caseEvent(c, 'Case.IncidentGrew', departmentName?.(c.department));
  return {
    detailType: 'Case.IncidentGrew',
    resources: [c.caseId],
    detail: {
      ...base.detail,
      threshold: Math.max(...crossed),
      thresholds: [...crossed],
      reporterCount,
      // Supervisors need the place and the count, not the first citizen's contact.
      citizen: undefined,
    },
  };
}

/**
 * The case after `report` joined it, or undefined when it already had (redelivery). The caller writes it with
 * `replaceCase(next, c.version)` and re-reads on a lost race.
 */
export function mergeIntoCase(c: Case, m: MergeInput): { next: Case; events: BusEvent[] } | undefined {
  const { report, relation, dedupe } = m;
  if (alreadyMerged(c, report.trackingNo)) return undefined;
  const r = report.request;
  const version = c.version + 1;
  const reportCount = c.reportCount + (relation === 'incident' ? 1 : 0);
  const mergedSoFar = Array.isArray(c.mergedReports) ? (c.mergedReports as string[]) : [];
  const record = mergedSoFar.length < MAX_MERGE_HISTORY || dedupe.crossed.length > 0 || dedupe.reopen === true;
  const label = relation === 'incident' ? '并案' : '重复件';
  const entry: HistoryEntry = {
    at: m.now,
    version,
    actor: { role: 'system', id: 'triage' },
    action: 'receive',
    from: c.state,
    to: c.state,
    department: c.department ?? null,
    text: `经${channelLabel(r.channel)}受理，受理编号 ${report.trackingNo}，${label}：${dedupe.explanation}`,
    details: {
      relation,
      trackingNo: report.trackingNo,
      channel: r.channel,
      reportCount,
      reporterCount: dedupe.reporterCount,
      score: dedupe.score,
      ...(dedupe.crossed.length ? { threshold: Math.max(...dedupe.crossed) } : {}),
      ...(dedupe.reopen ? { reopenRequested: true } : {}),
    },
    visibility: 'internal',
  };
  const next: Case = {
    ...c,
    version,
    updatedAt: m.now,
    reportCount,
    reporterCount: Math.max(dedupe.reporterCount, typeof c.reporterCount === 'number' ? c.reporterCount : 1),
    reporters:
      c.reporters.length < MAX_REPORTERS_INLINE
        ? [...c.reporters, reporterRef(report.trackingNo, r, relation)]
        : c.reporters,
    mergedReports: [...mergedSoFar, report.trackingNo].slice(-MERGED_RING),
    history: record ? [...c.history, entry] : c.history,
  };
  const owed = owedBefore(c, m.departmentName);
  const grew =
    dedupe.crossed.length > 0 ? [incidentGrewEvent(next, dedupe.crossed, dedupe.reporterCount, m.departmentName)] : [];
  const events = [...owed, ...grew];
  if (events.length > 0) {
    next.pendingEvents = events;
    next.announcedVersion = c.announcedVersion;
  } else {
    // Nothing to announce for this version: it is "announced" as written (the sweep owes nothing).
    delete next.pendingEvents;
    next.announcedVersion = version;
  }
  return { next, events };
}
