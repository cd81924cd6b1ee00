/**
 * The wiring of ports to adapters for every handler: built once per container from env, each port on its first use.
 * On AWS: TABLE_NAME, EVENT_BUS_NAME, QUEUE_URL_<ID> (see core/topology.ts), BLOB_BUCKET, MAIL_FROM.
 * Locally the same env points at the embedded emulators (AWS_ENDPOINT_URL_*), and CITYLOOP_DATA_DIR (without
 * BLOB_BUCKET) keeps blobs and the outbox as files under the data folder.
 *
 * Lazy per port: a cold start pays only for the SDK clients its first request uses (the web intake never builds the
 * EventBridge, S3 or SES client; `npm run bench -- coldstart` measures it). Each port is built once and kept.
 *
 * Left out at bundle time: a Lambda bundle carries only the SDK clients its topology spec uses (`infra/bundling.ts`
 * defines `globalThis.CITYLOOP_BUNDLE_OMIT_<CLIENT>` as `true` for the others; esbuild folds the test to a constant and
 * drops the client with its dead branch). The spec also decides the function's IAM grants and env, so a port left
 * out is one the function could not call on AWS anyway. Such a port is still there to wire up (handlers build their
 * services with every port, e.g. `caseService()`), but each call of it rejects with `PORT_NOT_BUNDLED`. Unbundled
 * (tests, the local stack, the CLI) nothing is defined and every port is the real one.
 *
 * Loaded on first call: the EventBridge, SQS, S3 and SES adapters come from `./aws-adapters.ts`, which Lambda bundles
 * swap for `./aws-adapters-lazy.ts`: there each of these ports loads its adapter and SDK client in a lazy chunk on
 * its first call, so a cold start pays only for the clients its first request calls.
 */
import { join } from 'node:path';
import { dynamoClient, resetDynamoClient, tableName } from '#adapters/dynamo/client.ts';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { EventBridgeBus } from '#adapters/eventbridge/bus.ts';
import { FileBlobStore, FileOutbox } from '#adapters/local/files.ts';
import type { SqsWorkQueue } from '#adapters/sqs/queue.ts';
import { TrackingNumbers } from '#core/intake/tracking.ts';
import { type BlobStore, type Clock, type Outbox, systemClock } from '#core/ports.ts';
import {
  blobsPort,
  busPort,
  outboxPort,
  queuePort,
  resetBlobsClient,
  resetBusClient,
  resetOutboxClient,
  resetQueueClient,
} from '#functions/lib/aws-adapters.ts';

export interface Runtime {
  store: DynamoStore;
  bus: EventBridgeBus;
  queue: SqsWorkQueue;
  trackingNumbers: TrackingNumbers;
  clock: Clock;
  blobs: BlobStore;
  outbox: Outbox;
}

declare global {
  /** Bundle-time constants (esbuild `define`, see `infra/bundling.ts`); never set at run time. */
  var CITYLOOP_BUNDLE_OMIT_EVENTBRIDGE: boolean | undefined;
  var CITYLOOP_BUNDLE_OMIT_SQS: boolean | undefined;
  var CITYLOOP_BUNDLE_OMIT_S3: boolean | undefined;
  var CITYLOOP_BUNDLE_OMIT_SES: boolean | undefined;
}

/** A port this bundle was built without (its topology spec does not use it). */
export class PortNotBundledError extends Error {
  readonly code = 'PORT_NOT_BUNDLED';
  constructor(readonly port: keyof Runtime) {
    super(`${port}: not in this bundle: the function's topology spec (core/topology.ts) does not use it`);
    this.name = 'PortNotBundledError';
  }
}

/** A port left out of the bundle: every method (all of them are async I/O) rejects with `PortNotBundledError`. */
function notBundled<T extends object>(port: keyof Runtime): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      // Not a thenable, not serializable: only method calls are refused.
      if (typeof prop === 'symbol' || prop === 'then' || prop === 'toJSON') return undefined;
      return async () => {
        throw new PortNotBundledError(port);
      };
    },
  });
}

type Builders = { [K in keyof Runtime]: (rt: Runtime) => Runtime[K] };

/** Files under the data folder when running locally without a bucket. */
const localDir = (): string | undefined => (process.env.BLOB_BUCKET ? undefined : process.env.CITYLOOP_DATA_DIR);

const builders: Builders = {
  store: () => new DynamoStore(dynamoClient(), tableName()),
  // Each test is on `globalThis.…` itself, not a copy in a variable: esbuild folds only the defined expression. The
  // `import()` each port passes (used by the lazy adapters of a bundle) sits in the branch a left-out port drops, so
  // esbuild makes no chunk for a client the bundle leaves out.
  bus: () =>
    globalThis.CITYLOOP_BUNDLE_OMIT_EVENTBRIDGE
      ? notBundled<EventBridgeBus>('bus')
      : busPort(process.env.EVENT_BUS_NAME ?? 'default', () => import('#adapters/eventbridge/bus.ts')),
  queue: () =>
    globalThis.CITYLOOP_BUNDLE_OMIT_SQS
      ? notBundled<SqsWorkQueue>('queue')
      : queuePort(() => import('#adapters/sqs/queue.ts')),
  trackingNumbers: (rt) => new TrackingNumbers(rt.store),
  clock: () => systemClock,
  blobs: () => {
    const dir = localDir();
    if (dir) return new FileBlobStore(join(dir, 'blobs'));
    return globalThis.CITYLOOP_BUNDLE_OMIT_S3
      ? notBundled<BlobStore>('blobs')
      : blobsPort(process.env.BLOB_BUCKET ?? '', () => import('#adapters/s3/blobs.ts'));
  },
  outbox: (rt) => {
    const dir = localDir();
    if (dir) return new FileOutbox(join(dir, 'outbox'));
    return globalThis.CITYLOOP_BUNDLE_OMIT_SES
      ? notBundled<Outbox>('outbox')
      : outboxPort(process.env.MAIL_FROM ?? '12345@example.gov.cn', rt.queue, () => import('#adapters/ses/outbox.ts'));
  },
};

let runtime: Runtime | undefined;
let built: Partial<Runtime> = {};
let overrides: Partial<Runtime> = {};

function lazyRuntime(): Runtime {
  const rt = {} as Runtime;
  for (const key of Object.keys(builders) as (keyof Runtime)[]) {
    Object.defineProperty(rt, key, {
      enumerable: true,
      get: () => {
        if (key in overrides) return overrides[key];
        if (!(key in built)) (built as Record<string, unknown>)[key] = builders[key](rt);
        return built[key];
      },
    });
  }
  return rt;
}

export function getRuntime(): Runtime {
  runtime ??= lazyRuntime();
  return runtime;
}

/** Tests and the local stack may swap parts (e.g. an injected clock); the other ports stay as they are. */
export function setRuntime(r: Partial<Runtime>): void {
  getRuntime();
  overrides = { ...overrides, ...r };
}

export function resetRuntime(): void {
  runtime = undefined;
  built = {};
  overrides = {};
}

/** Drops the runtime and every module-scope SDK client, so the next use reads the environment again. */
export function resetAwsClients(): void {
  resetRuntime();
  resetDynamoClient();
  if (!globalThis.CITYLOOP_BUNDLE_OMIT_SQS) resetQueueClient();
  if (!globalThis.CITYLOOP_BUNDLE_OMIT_EVENTBRIDGE) resetBusClient();
  if (!globalThis.CITYLOOP_BUNDLE_OMIT_S3) resetBlobsClient();
  if (!globalThis.CITYLOOP_BUNDLE_OMIT_SES) resetOutboxClient();
}
