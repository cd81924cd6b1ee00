/**
 * An embedded EventBridge emulator on 127.0.0.1 speaking the AWS JSON 1.1 protocol
 * (`POST /`, `X-Amz-Target: AWSEvents.<Action>`), for `@aws-sdk/client-eventbridge` with
 * `endpoint: http://127.0.0.1:<port>`. Requests are not signature-checked. Matching rules deliver the event
 * envelope to their targets through the `deliver` function (the local stack wires it to SQS SendMessage).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Deliver, type DeliveryStats, Dispatcher } from './delivery.ts';
import { AwsError } from './errors.ts';
import { EventBridgeService } from './service.ts';

export interface EventBridgeEmulatorOptions {
  /** 0 or absent: any free port. */
  port?: number;
  /** Account id in ARNs and events; default 000000000000. */
  account?: string;
  /** Region in ARNs and events; default us-east-1 (`cn-*` regions give `aws-cn` ARNs). */
  region?: string;
  /** Sends one message to a target (or dead-letter queue) ARN; a rejection counts as a failed attempt. */
  deliver: Deliver;
  /** Where archives append their events as JSON lines; in memory only when absent. */
  archiveDir?: string;
  /** Attempts per delivery, the first included, before the dead-letter queue; default 3. */
  maxAttempts?: number;
  /** First retry wait, doubled on each further retry; default 200 ms. */
  retryDelayMs?: number;
  /** Longest wait for one `deliver` call; default 10 s. */
  attemptTimeoutMs?: number;
  /** Delivery failures and dropped events are reported here; default: stderr. */
  log?: (line: string) => void;
}

export interface EventBridgeEmulator {
  url: string;
  port: number;
  /** Waits until started replays have dispatched and every delivery so far has finished (or failed over). */
  drain(): Promise<void>;
  /** Delivery counters since start. */
  stats(): DeliveryStats;
  /** Stops listening, cuts retry waits short and waits for deliveries under way. */
  stop(): Promise<void>;
}

const TARGET_PREFIX = 'AWSEvents.';
/** Bigger than any valid request (PutEvents carries at most 256 KB of entries). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export async function startEventBridgeEmulator(opts: EventBridgeEmulatorOptions): Promise<EventBridgeEmulator> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dispatcher = new Dispatcher(opts.deliver, {
    retryDelayMs: opts.retryDelayMs ?? 200,
    attemptTimeoutMs: opts.attemptTimeoutMs ?? 10_000,
    log,
  });
  const service = new EventBridgeService({
    account: opts.account ?? '000000000000',
    region: opts.region ?? 'us-east-1',
    archiveDir: opts.archiveDir,
    dispatcher,
    maxAttempts: Math.max(1, Math.floor(opts.maxAttempts ?? 3)),
    log,
  });

  const server = createServer((req, res) => {
    handle(service, req, res).catch((e: unknown) => {
      log(`eventbridge: internal error: ${e instanceof Error ? e.stack : String(e)}`);
      if (!res.headersSent) send(res, 500, { __type: 'InternalException', message: 'Internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    drain: () => service.drain(),
    stats: () => ({ ...dispatcher.stats }),
    stop: () => {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await service.settleReplays();
        await dispatcher.stop();
      })();
      return stopped;
    },
  };
}

async function handle(service: EventBridgeService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    send(res, 404, {
      __type: 'UnknownOperationException',
      message: `Use POST with X-Amz-Target ${TARGET_PREFIX}<Action>`,
    });
    return;
  }
  const body = await readBody(req);
  if (body === undefined) {
    send(res, 413, { __type: 'RequestEntityTooLargeException', message: 'Request is too large.' });
    return;
  }
  const target = String(req.headers['x-amz-target'] ?? '');
  const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  const run = Object.hasOwn(service.actions, action) ? service.actions[action] : undefined;
  if (run === undefined) {
    send(res, 400, { __type: 'UnknownOperationException', message: `Unknown operation ${target || '(none)'}` });
    return;
  }
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body);
  } catch {
    send(res, 400, { __type: 'SerializationException', message: 'Request body is not valid JSON.' });
    return;
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    send(res, 400, { __type: 'SerializationException', message: 'Request body must be a JSON object.' });
    return;
  }
  try {
    const out = await run(input as Record<string, unknown>);
    send(res, 200, out ?? {});
  } catch (e) {
    if (e instanceof AwsError) send(res, e.status, { __type: e.type, message: e.message });
    else throw e;
  }
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (status >= 400 && typeof (body as { __type?: unknown }).__type === 'string') {
    headers['x-amzn-errortype'] = (body as { __type: string }).__type;
  }
  res.writeHead(status, headers);
  res.end(text);
}
