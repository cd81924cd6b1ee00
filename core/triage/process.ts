/**
 * The triage step for a batch of accepted reports, against the ports. At-least-once: a report may come again
 * (SQS redelivery, a resubmission, a DLQ redrive). The case write is conditional, and the announcement is owed until
 * `announcedVersion` catches up with `version`, so a redelivered report re-sends only what was not yet announced.
 * Guarantee: every accepted report ends on exactly one case; each case version is announced at least once, with a
 * deterministic `eventId` for consumers to drop the rare repeat (a crash between the bus call and markAnnounced).
 */
import type { Case } from '../case.ts';
import type { Bus, BusEvent, CaseStore, StoredReport } from '../ports.ts';
import { caseEvent, openCase, type TriageContext } from './triage.ts';

export interface TriageDeps {
  cases: CaseStore;
  bus: Bus;
  context: () => TriageContext;
  departmentName: (id: string | undefined) => string | undefined;
}

export interface TriageOutcome {
  trackingNo: string;
  caseId: string;
  relation: 'new' | 'resubmission';
  announced: boolean;
}

/** Returns the outcome per report; a report whose case could not be written or announced throws (→ retry). */
export async function triageBatch(
  deps: TriageDeps,
  reports: StoredReport[],
): Promise<PromiseSettledResult<TriageOutcome>[]> {
  // 1. Write (or find) the case of each report.
  const staged = await Promise.allSettled(
    reports.map(async (report) => {
      const opened = openCase(report, deps.context());
      const put = await deps.cases.createCase(opened.case);
      if (put.created) return { report, c: opened.case, events: opened.events, relation: 'new' as const };
      const existing = put.existing;
      const owed: BusEvent[] =
        existing.announcedVersion >= existing.version
          ? []
          : existing.pendingEvents?.length
            ? existing.pendingEvents
            : [
                caseEvent(
                  existing,
                  existing.state === 'triage' ? 'Case.TriageRequired' : 'Case.Dispatched',
                  deps.departmentName(existing.department),
                ),
              ];
      return { report, c: existing, events: owed, relation: 'resubmission' as const };
    }),
  );
  // 2. Announce everything owed in as few bus calls as possible.
  const ok = staged.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const events = ok.flatMap((s) => s.events);
  const failed = new Set<number>();
  if (events.length > 0) {
    const result = await deps.bus.publish(events);
    let offset = 0;
    for (let i = 0; i < ok.length; i++) {
      const n = ok[i]?.events.length ?? 0;
      if (result.failed.some((f) => f >= offset && f < offset + n)) failed.add(i);
      offset += n;
    }
  }
  // 3. Record the announcement; a failure here only means a repeat announcement later.
  const results: PromiseSettledResult<TriageOutcome>[] = [];
  let k = 0;
  for (const s of staged) {
    if (s.status === 'rejected') {
      results.push(s);
      continue;
    }
    const idx = k++;
    const v = s.value;
    if (failed.has(idx)) {
      results.push({ status: 'rejected', reason: new Error(`bus rejected the announcement of case ${v.c.caseId}`) });
      continue;
    }
    if (v.events.length > 0) await markAnnouncedQuietly(deps.cases, v.c);
    results.push({
      status: 'fulfilled',
      value: {
        trackingNo: v.report.trackingNo,
        caseId: v.c.caseId,
        relation: v.relation,
        announced: v.events.length > 0,
      },
    });
  }
  return results;
}

async function markAnnouncedQuietly(cases: CaseStore, c: Case): Promise<void> {
  try {
    await cases.markAnnounced(c.caseId, c.version);
  } catch {
    // The case stays "owed": the next delivery or the sweep announces it again; consumers drop it by eventId.
  }
}
