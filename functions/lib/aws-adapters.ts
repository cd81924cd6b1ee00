/**
 * The AWS adapters of the ports `functions/lib/runtime.ts` builds on demand (EventBridge, SQS, S3, SES), imported
 * statically: what the tests, the local stack and the CLI run. Lambda bundles swap this module for
 * `./aws-adapters-lazy.ts` (same exports; `infra/bundling.ts` aliases it), which loads each adapter in a lazy chunk
 * on the port's first call.
 */
import { EventBridgeBus, eventBridgeClient, resetEventBridgeClient } from '#adapters/eventbridge/bus.ts';
import { resetS3Client, S3BlobStore, s3Client } from '#adapters/s3/blobs.ts';
import { resetSesClient, SesOutbox, sesClient } from '#adapters/ses/outbox.ts';
import { resetSqsClient, SqsWorkQueue, sqsClient } from '#adapters/sqs/queue.ts';
import type { BlobStore, Outbox, WorkQueue } from '#core/ports.ts';

// The `load` arguments are the lazy twin's (an `import()` of the same adapter): here it is imported already.
export const busPort = (busName: string, _load?: unknown): EventBridgeBus =>
  new EventBridgeBus(eventBridgeClient(), busName);
export const queuePort = (_load?: unknown): SqsWorkQueue => new SqsWorkQueue(sqsClient());
export const blobsPort = (bucket: string, _load?: unknown): BlobStore => new S3BlobStore(s3Client(), bucket);
export const outboxPort = (from: string, queue: WorkQueue, _load?: unknown): Outbox =>
  new SesOutbox(sesClient(), from, queue);

export const resetBusClient = (): void => resetEventBridgeClient();
export const resetQueueClient = (): void => resetSqsClient();
export const resetBlobsClient = (): void => resetS3Client();
export const resetOutboxClient = (): void => resetSesClient();
