/**
 * The work-queue port on SQS. Queue URLs come from env (`QUEUE_URL_<ID>`, see core/topology.ts), set by the CDK
 * stack and by the local stack alike. SendMessageBatch takes ≤10 messages; failed ones are re-sent.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { WorkQueue } from '#core/ports.ts';
import { queueEnvName } from '#core/topology.ts';

let client: SQSClient | undefined;

/**
 * With a custom endpoint (the local emulator), send to that endpoint: the SDK would otherwise use the queue URL's
 * host (`sqs.<region>.localhost`), which does not resolve everywhere.
 */
export function sqsClientConfig(extra: ConstructorParameters<typeof SQSClient>[0] = {}) {
  return { maxAttempts: 4, ...(process.env.AWS_ENDPOINT_URL_SQS ? { useQueueUrlAsEndpoint: false } : {}), ...extra };
}
export function sqsClient(): SQSClient {
  client ??= new SQSClient(sqsClientConfig());
  return client;
}

export function queueUrl(queueId: string, env: NodeJS.ProcessEnv = process.env): string {
  const url = env[queueEnvName(queueId)];
  if (!url) throw new Error(`${queueEnvName(queueId)} is not set`);
  return url;
}

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly urlOf: (queueId: string) => string = queueUrl,
  ) {}

  async send(queueId: string, bodies: string[]): Promise<void> {
    const url = this.urlOf(queueId);
    for (let i = 0; i < bodies.length; i += 10) {
      let batch = bodies.slice(i, i + 10).map((b, k) => ({ Id: String(k), MessageBody: b }));
      for (let attempt = 0; batch.length > 0; attempt++) {
        const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: batch }));
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        batch = batch.filter((e) => failed.has(e.Id));
        if (batch.length > 0 && attempt >= 2) {
          throw new Error(`SQS refused ${batch.length} message(s) for ${queueId}: ${out.Failed?.[0]?.Message ?? ''}`);
        }
      }
    }
  }
}

/** Forget the client (the local stack re-points the SDK when it restarts in the same process). */
export function resetSqsClient(): void {
  client = undefined;
}
