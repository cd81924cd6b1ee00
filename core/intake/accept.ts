/**
 * 受理 (accept): the promise to the citizen. The report is durable (one conditional write) before we answer with a
 * tracking number, and it is queued for triage. The same channel message again gets the same tracking number and is
 * never a second report.
 */
import type { TrackingNo } from '../ids.ts';
import { toShanghaiIso } from '../ids.ts';
import type { Clock, ReportStore, StoredReport, WorkQueue } from '../ports.ts';
import type { IntakeRequest } from './schema.ts';
import type { TrackingNumbers } from './tracking.ts';

export interface AcceptDeps {
  store: ReportStore;
  queue: WorkQueue;
  trackingNumbers: TrackingNumbers;
  clock: Clock;
}

export interface Accepted {
  trackingNo: TrackingNo;
  /** false when this was the same submission again (retry, double click, re-push). */
  created: boolean;
  report: StoredReport;
}

export const INTAKE_QUEUE = 'intake';

export const idemKeyOf = (r: Pick<IntakeRequest, 'channel' | 'channelMessageId'>): string =>
  `${r.channel}#${r.channelMessageId}`;

/** The intake queue's message: the whole report, so triage needs no read. */
export interface IntakeMessage {
  report: StoredReport;
}

export async function acceptReport(deps: AcceptDeps, request: IntakeRequest): Promise<Accepted> {
  const now = deps.clock.now();
  const trackingNo = await deps.trackingNumbers.allocate(now);
  const report: StoredReport = {
    trackingNo,
    idemKey: idemKeyOf(request),
    request,
    acceptedAt: toShanghaiIso(now),
  };
  const put = await deps.store.putReportIfAbsent(report);
  // A resubmission of a report that was never triaged (we crashed before queueing it) is queued again: triage is
  // idempotent, so queueing twice is harmless, and never queueing would lose it.
  if (put.created || !put.report.caseId) {
    const msg: IntakeMessage = { report: put.report };
    await deps.queue.send(INTAKE_QUEUE, [JSON.stringify(msg)]);
  }
  return { trackingNo: put.report.trackingNo, created: put.created, report: put.report };
}
