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
import { countOwed, recordingCreations } from '#core/sla/case-metrics.ts';
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
  const results = await triageBatch(
    {
      cases: recordingCreations(rt.store, created),
      bus: rt.bus,
      context: () => triageContext(rt.clock.now()),
      departmentName,
      // 重复件/并案 before a case is opened; 重办 of a closed case through the lifecycle service.
      dedupe: { engine: dedupeEngine(), reports: rt.store, toWgs84: reportToWgs84, lifecycle: caseService() },
      // 考核评价: each new case counts once (受理, and the deadlines it falls due on), with whatever a case found again
      // still owes; one update per aggregate item for the whole batch. When the counts fail, those reports come back.
      metrics: { count: (cases) => countOwed(rt.store, cases) },
    },
    reports.map((r) => r.report),
  );
  // The citizens hear that their requests were dispatched (best effort: never fails the batch), all at once.
  await Promise.all(created.map((c) => notifyCaseOpened(c)));
  results.forEach((res, i) => {
    const item = reports[i]!;
    if (res.status === 'fulfilled') {
      log.info('triaged', { ...res.value });
    } else {
      log.error('triage failed', { trackingNo: item.report.trackingNo, ...failureFields(res.reason) });
      failures.push({ itemIdentifier: item.messageId });
    }
  });
  return { batchItemFailures: failures };
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler(triageHandler);
