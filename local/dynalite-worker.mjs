/**
 * dynalite in a worker thread (started by `startDynalite` in ./emulators.ts): the emulated DynamoDB (its request
 * parsing, condition expressions and LevelDB) runs on its own core instead of sharing the event loop with the
 * handlers. Plain JavaScript so it loads the same way under tsx, vitest and plain node.
 * In: workerData { path?: string, port: number }. Out: { type: 'ready', port } | { type: 'error', message };
 * the message 'stop' closes the server and the LevelDB, answers { type: 'stopped' } and ends the thread.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');

const server = dynalite({
  ...(workerData.path ? { path: workerData.path } : {}),
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});
server.once('error', (e) => parentPort.postMessage({ type: 'error', message: String(e?.message ?? e) }));
server.listen(workerData.port, '127.0.0.1', () => {
  parentPort.postMessage({ type: 'ready', port: server.address().port });
});
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  server.close(() => {
    const done = () => {
      parentPort.postMessage({ type: 'stopped' });
      parentPort.close();
    };
    // dynalite keeps its LevelDB open: close it so the next start can open the same folder.
    if (server.db?.close) server.db.close(done);
    else done();
  });
  server.closeAllConnections?.();
});
