/**
 * 分拨 consumer: an SQS batch of accepted reports → cases → announcements on the bus.
 * Partial batch failures (`ReportBatchItemFailures`): only the reports that failed come back; a malformed message
 * fails alone and reaches the DLQ after maxReceiveCount, never blocking the rest of the batch.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Case } from '#core/case.ts';
import type { IntakeMessage } from '#core/intake/accept.ts';
import type { StoredReport } from '#core/ports.ts';
import { caseTransitionDeltas, metricsToken, recordingCreations } from '#core/sla/case-metrics.ts';
import { triageBatch } from '#core/triage/process.ts';
import { caseService, notifyCaseOpened } from './lib/case-context.ts';
import { failureFields, log } from './lib/log.ts';
import { getRuntime } from './lib/runtime.ts';
import { dedupeEngine, departmentName, reportToWgs84, triageContext } from './lib/triage-context.ts';

function readMessage(body: string): StoredReport {
  const msg = JSON.parse(body) as IntakeMessage;
  if (!msg?.report?.trackingNo || !msg.report.idemKey || !msg.report.request) throw new Error('not an intake message');
  return msg.report;
}

export async function triageHandler(event: SQSEvent): Promise<SQSBatchResponse> {
  const rt = getRuntime();
  const failures: { itemIdentifier: string }[] = [];
  const reports: { messageId: string; report: StoredReport }[] = [];
  for (const r of event.Records) {
    try {
      reports.push({ messageId: r.messageId, report: readMessage(r.body) });
    } catch (e) {
      log.error('malformed intake message', { messageId: r.messageId, error: (e as Error).message });
      failures.push({ itemIdentifier: r.messageId });
    }
  }
  const created: Case[] = [];
  const replayed: Case[] = [];
  const results = await triageBatch(
    {
      cases: recordingCreations(rt.store, created, replayed),
      bus: rt.bus,
      context: () => triageContext(rt.clock.now()),
      departmentName,
      // 重复件/并案 before a case is opened; 重办 of a closed case through the lifecycle service.
      dedupe: { engine: dedupeEngine(), reports: rt.store, toWgs84: reportToWgs84, lifecycle: caseService() },
    },
    reports.map((r) => r.report),
  );
  // 考核评价: each new case counts once (受理, and the deadlines it falls due on); the cases are durable already. The
  // batch's new cases are added together: one update per aggregate item, whatever the number of cases on it. The
  // citizens hear that their requests were dispatched at the same time (best effort: never fails the batch). Neither
  // waits for the other, nor one notice for the next: one round trip for the batch instead of one per case. Cases a
  // redelivered batch found as they were created are counted again under the same tokens: only what an interrupted
  // first attempt missed is added. So when the counts fail (after the SDK's retries), the reports of those cases are
  // handed back to SQS: their redelivery finds the cases written and counts them then.
  const counted = [...created, ...replayed];
  let uncounted = new Set<string>();
  const metrics =
    counted.length > 0
      ? rt.store
          .addTransitionsToAggregates(
            counted.map((c) => ({ deltas: caseTransitionDeltas(null, c), token: metricsToken(null, c) })),
          )
          .then(
            () => undefined,
            (e: Error) => {
              uncounted = new Set(counted.map((c) => c.caseId));
              log.error('case metrics not recorded: the reports come back to count them', {
                caseIds: [...uncounted],
                error: e.message,
              });
            },
          )
      : undefined;
  await Promise.all([metrics, ...created.map((c) => notifyCaseOpened(c))]);
  results.forEach((res, i) => {
    const item = reports[i]!;
    if (res.status === 'fulfilled' && uncounted.has(res.value.caseId)) {
      failures.push({ itemIdentifier: item.messageId });
    } else if (res.status === 'fulfilled') {
      log.info('triaged', { ...res.value });
    } else {
      log.error('triage failed', { trackingNo: item.report.trackingNo, ...failureFields(res.reason) });
      failures.push({ itemIdentifier: item.messageId });
    }
  });
  return { batchItemFailures: failures };
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler(triageHandler);
