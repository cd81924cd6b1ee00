/**
 * `./aws-adapters.ts` for Lambda bundles (`infra/bundling.ts` aliases it here): each port is a stand-in that loads
 * its adapter, with its SDK client, on the port's first call through `load` (`functions/lib/runtime.ts` passes an
 * `import()` of the adapter, which esbuild puts in a lazy chunk) and forwards every call to it. The `import()` is
 * written in runtime.ts, inside the branch a port left out of the bundle folds away, so such a port makes no chunk. A cold start whose first request does not publish, queue, read a blob or send mail
 * then never loads, compiles or configures those clients. Every method of these ports is async, so callers get the
 * same promises as from the adapters themselves; the client is built from env on the first call instead of when the
 * port is built (the same env, read once per container either way).
 */
import type * as BusModule from '#adapters/eventbridge/bus.ts';
import type { EventBridgeBus } from '#adapters/eventbridge/bus.ts';
import type * as BlobsModule from '#adapters/s3/blobs.ts';
import type * as OutboxModule from '#adapters/ses/outbox.ts';
import type * as QueueModule from '#adapters/sqs/queue.ts';
import type { SqsWorkQueue } from '#adapters/sqs/queue.ts';
import type { BlobStore, Bus, Outbox, WorkQueue } from '#core/ports.ts';

/** The resets of the adapter modules loaded so far, by name. */
const loadedResets = new Map<string, () => void>();

/**
 * A port built on its first call: `load` runs once; each listed method waits for it and forwards its arguments.
 * A failed load is not kept: the next call tries again.
 */
export function lazyPort<T extends object>(methods: readonly (keyof T & string)[], load: () => Promise<T>): T {
  let loading: Promise<T> | undefined;
  const real = () => {
    loading ??= load().catch((e: unknown) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
  const port: Record<string, unknown> = {};
  for (const m of methods) {
    port[m] = async (...args: unknown[]) => {
      const target = await real();
      return (target[m] as (...a: unknown[]) => unknown)(...args);
    };
  }
  return port as T;
}

export const busPort = (busName: string, load: () => Promise<typeof BusModule>): EventBridgeBus =>
  lazyPort<Bus>(['publish'], async () => {
    const m = await load();
    loadedResets.set('bus', m.resetEventBridgeClient);
    return new m.EventBridgeBus(m.eventBridgeClient(), busName);
  }) as EventBridgeBus;

export const queuePort = (load: () => Promise<typeof QueueModule>): SqsWorkQueue =>
  lazyPort<WorkQueue>(['send'], async () => {
    const m = await load();
    loadedResets.set('queue', m.resetSqsClient);
    return new m.SqsWorkQueue(m.sqsClient());
  }) as SqsWorkQueue;

export const blobsPort = (bucket: string, load: () => Promise<typeof BlobsModule>): BlobStore =>
  lazyPort<BlobStore>(['put', 'get'], async () => {
    const m = await load();
    loadedResets.set('blobs', m.resetS3Client);
    return new m.S3BlobStore(m.s3Client(), bucket);
  });

export const outboxPort = (from: string, queue: WorkQueue, load: () => Promise<typeof OutboxModule>): Outbox =>
  lazyPort<Outbox>(['send'], async () => {
    const m = await load();
    loadedResets.set('outbox', m.resetSesClient);
    return new m.SesOutbox(m.sesClient(), from, queue);
  });

// A client exists only once its module was loaded: reset those (nothing else to forget).
export const resetBusClient = (): void => loadedResets.get('bus')?.();
export const resetQueueClient = (): void => loadedResets.get('queue')?.();
export const resetBlobsClient = (): void => loadedResets.get('blobs')?.();
export const resetOutboxClient = (): void => loadedResets.get('outbox')?.();
