/**
 * The embedded AWS emulators of the local stack, on 127.0.0.1 only:
 * - DynamoDB: dynalite, LevelDB on disk under the data folder (cases survive a restart);
 * - SQS (and S3 for blobs): fauxqs, SQLite persistence under the data folder.
 * fauxqs' own `startFauxqs()` listens on 0.0.0.0, which we never do: we build its app ourselves and listen on
 * loopback, wiring its persistence the way `startFauxqs` does. Its persistence classes are not in the package's
 * `exports`, so they are imported by file URL.
 */

import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

export interface Emulator {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * dynalite on 127.0.0.1. By default in a worker thread (`./dynalite-worker.mjs`): under load the emulated database was
 * about a third of the local stack's CPU (`npm run bench -- e2e` profile), and in its own thread it gets the second
 * core. `{ thread: false }` keeps it on the caller's event loop.
 */
export async function startDynalite(
  dataDir: string | undefined,
  port = 0,
  opts: { thread?: boolean } = {},
): Promise<Emulator> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  if (opts.thread === false) return startDynaliteHere(dataDir, port);
  const worker = new Worker(new URL('./dynalite-worker.mjs', import.meta.url), {
    workerData: { ...(dataDir ? { path: dataDir } : {}), port },
  });
  const actual = await new Promise<number>((resolve, reject) => {
    const onMessage = (m: { type: string; port?: number; message?: string }) => {
      if (m.type === 'ready') resolve(m.port as number);
      else if (m.type === 'error') reject(new Error(`dynalite: ${m.message}`));
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`dynalite worker exited (${code})`)));
  });
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5_000);
        worker.on('message', (m: { type: string }) => {
          if (m.type !== 'stopped') return;
          clearTimeout(timer);
          void worker.terminate().then(() => resolve());
        });
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.postMessage('stop');
      });
      return stopped;
    },
  };
}

async function startDynaliteHere(dataDir: string | undefined, port: number): Promise<Emulator> {
  const dynalite = require('dynalite') as (opts: Record<string, unknown>) => import('node:http').Server;
  const server = dynalite({
    ...(dataDir ? { path: dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
        // dynalite keeps its LevelDB open: close it so the next start can open the same folder.
        const db = (server as unknown as { db?: { close?: (cb: () => void) => void } }).db;
        db?.close?.(() => undefined);
      }),
  };
}

interface SqliteLike {
  exec(sql: string): void;
}

/**
 * fauxqs keeps every queue change in SQLite (WAL) with the default `synchronous = FULL`: an fsync per statement, and
 * the statements are synchronous, so each message sent, received or deleted blocked the event loop for about 2 ms
 * on this machine's disk (three times per message; `npm run bench -- e2e` profiled it as the stack's top cost).
 * `NORMAL` in WAL mode stays consistent and survives a crash of the process; only an OS crash or power loss can
 * drop the last writes, which a local development stack can afford. https://www.sqlite.org/pragma.html#pragma_synchronous
 */
export function tuneSqlite(db: SqliteLike | undefined): void {
  db?.exec('PRAGMA synchronous = NORMAL');
}

export async function startFauxqsLoopback(
  dataDir: string | undefined,
  port = 0,
): Promise<Emulator & { region: string }> {
  const fauxqs = await import('fauxqs');
  // fauxqs exports only an `import` condition, so resolve it the ESM way.
  const dist = dirname(fileURLToPath(import.meta.resolve('fauxqs')));
  const load = (rel: string) => import(pathToFileURL(join(dist, rel)).href);
  const { SqsStore } = await load('sqs/sqsStore.js');
  const { SnsStore } = await load('sns/snsStore.js');
  const { S3Store } = await load('s3/s3Store.js');
  const sqsStore = new SqsStore();
  const snsStore = new SnsStore();
  const s3Store = new S3Store();
  let persistence: { load(a: unknown, b: unknown, c: unknown): void; close(): void } | undefined;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    const { PersistenceManager } = await load('persistence.js');
    persistence = new PersistenceManager(dataDir);
    tuneSqlite((persistence as unknown as { db?: SqliteLike }).db);
    persistence!.load(sqsStore, snsStore, s3Store);
    sqsStore.persistence = persistence;
    snsStore.persistence = persistence;
    s3Store.persistence = persistence;
    for (const q of sqsStore.allQueues()) q.persistence = persistence;
  }
  const app = fauxqs.buildApp({ logger: false, stores: { sqsStore, snsStore, s3Store } } as never);
  const region = 'us-east-1';
  const address = await app.listen({ port, host: '127.0.0.1' });
  const actual = Number(new URL(address).port);
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    region,
    stop: async () => {
      await app.close();
      persistence?.close();
    },
  };
}
