/**
 * The local stand-in for Lambda's SQS event source mapping: long-polls a queue, invokes the consumer with a real
 * SQS event batch, deletes only the messages not named in `batchItemFailures` (ReportBatchItemFailures), and leaves
 * the failed ones to come back after the visibility timeout (then to the DLQ after maxReceiveCount, by the queue's
 * redrive policy). A handler that throws fails the whole batch, as on Lambda.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  onError?: (e: unknown) => void;
  waitSeconds?: number;
}

export interface Poller {
  stop(): Promise<void>;
  /** Resolves when the queue has been seen empty (nothing visible) once after this call. */
  idle(): Promise<void>;
}

export function startPoller(o: PollerOptions): Poller {
  let running = true;
  let idleWaiters: (() => void)[] = [];
  const loop = (async () => {
    while (running) {
      try {
        const out = await o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: o.queueUrl,
            MaxNumberOfMessages: Math.min(10, o.batchSize),
            WaitTimeSeconds: o.waitSeconds ?? 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) {
          const w = idleWaiters;
          idleWaiters = [];
          for (const f of w) f();
          continue;
        }
        const records: SQSRecord[] = messages.map((m) => ({
          messageId: m.MessageId ?? '',
          receiptHandle: m.ReceiptHandle ?? '',
          body: m.Body ?? '',
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
            SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
            SenderId: m.Attributes?.SenderId ?? 'local',
            ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? '',
          eventSource: 'aws:sqs',
          eventSourceARN: o.queueArn,
          awsRegion: o.region,
        }));
        let failed = new Set<string>();
        try {
          const res = await o.handler({ Records: records });
          failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (e) {
          o.onError?.(e);
          failed = new Set(records.map((r) => r.messageId));
        }
        const done = records.filter((r) => !failed.has(r.messageId));
        if (done.length > 0) {
          await o.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: o.queueUrl,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          );
        }
      } catch (e) {
        if (!running) break;
        o.onError?.(e);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
    idle: () => new Promise<void>((resolve) => idleWaiters.push(resolve)),
  };
}

export async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`no ARN for ${queueUrl}`);
  return arn;
}
