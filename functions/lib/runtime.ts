/**
 * The wiring of ports to adapters for every handler: built once per container from env, on first use.
 * On AWS: TABLE_NAME, EVENT_BUS_NAME, QUEUE_URL_<ID> (see core/topology.ts), BLOB_BUCKET, MAIL_FROM.
 * Locally the same env points at the embedded emulators (AWS_ENDPOINT_URL_*), and CITYLOOP_DATA_DIR (without
 * BLOB_BUCKET) keeps blobs and the outbox as files under the data folder.
 */
import { join } from 'node:path';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { dynamoClient, resetDynamoClient, tableName } from '#adapters/dynamo/client.ts';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import { EventBridgeBus, eventBridgeClient, resetEventBridgeClient } from '#adapters/eventbridge/bus.ts';
import { FileBlobStore, FileOutbox } from '#adapters/local/files.ts';
import { resetS3Client, S3BlobStore, s3Client } from '#adapters/s3/blobs.ts';
import { SesOutbox } from '#adapters/ses/outbox.ts';
import { resetSqsClient, SqsWorkQueue, sqsClient } from '#adapters/sqs/queue.ts';
import { TrackingNumbers } from '#core/intake/tracking.ts';
import { type BlobStore, type Clock, type Outbox, systemClock } from '#core/ports.ts';

export interface Runtime {
  store: DynamoStore;
  bus: EventBridgeBus;
  queue: SqsWorkQueue;
  trackingNumbers: TrackingNumbers;
  clock: Clock;
  blobs: BlobStore;
  outbox: Outbox;
}

let runtime: Runtime | undefined;

export function getRuntime(): Runtime {
  if (!runtime) {
    const store = new DynamoStore(dynamoClient(), tableName());
    const queue = new SqsWorkQueue(sqsClient());
    const localDir = process.env.BLOB_BUCKET ? undefined : process.env.CITYLOOP_DATA_DIR;
    runtime = {
      store,
      bus: new EventBridgeBus(eventBridgeClient(), process.env.EVENT_BUS_NAME ?? 'default'),
      queue,
      trackingNumbers: new TrackingNumbers(store),
      clock: systemClock,
      blobs: localDir
        ? new FileBlobStore(join(localDir, 'blobs'))
        : new S3BlobStore(s3Client(), process.env.BLOB_BUCKET ?? ''),
      outbox: localDir
        ? new FileOutbox(join(localDir, 'outbox'))
        : new SesOutbox(new SESv2Client({}), process.env.MAIL_FROM ?? '12345@example.gov.cn', queue),
    };
  }
  return runtime;
}

/** Tests and the local stack may swap parts (e.g. an injected clock). */
export function setRuntime(r: Partial<Runtime>): void {
  runtime = { ...getRuntime(), ...r };
}

export function resetRuntime(): void {
  runtime = undefined;
}

/** Drops the runtime and every module-scope SDK client, so the next use reads the environment again. */
export function resetAwsClients(): void {
  resetRuntime();
  resetDynamoClient();
  resetSqsClient();
  resetEventBridgeClient();
  resetS3Client();
}
