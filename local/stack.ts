/**
 * The embedded local stack behind `npm start`: dynalite, fauxqs and our EventBridge emulator on 127.0.0.1, the
 * table, queues, bus and rules created from the same topology as the CDK stack, the same Lambda handlers behind an
 * HTTP → API Gateway v2 adapter, SQS pollers for consumers, a runner for scheduled functions, and the static pages.
 * Extra local services (SMTP listener, fake WeChat ...) are modules in `local/services/` exporting `start(ctx)`.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { RouteSpec, Topology } from '#core/topology.ts';
import { type CompiledRoute, compileRoute, matchRoute, readBody, toEvent, writeResult } from './apigw.ts';
import { authorize, type LocalKey, loadKeys } from './auth.ts';
import { type Poller, startPoller } from './poller.ts';
import { ACCOUNT, LOCAL_CREDENTIALS, provisionLocalAws, REGION } from './provision.ts';
import {
  clientKey,
  type RateLimitOptions,
  rateLimitedBody,
  rateLimitFromEnv,
  TokenBucketLimiter,
} from './ratelimit.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface LocalStackOptions {
  port?: number;
  dataDir?: string;
  smtpPort?: number;
  /** Scheduled functions' period override, in ms (tests speed the sweep up). 0 disables schedules. */
  scheduleMs?: number;
  quiet?: boolean;
  keysFile?: string;
  /** Per-client rate limit of the API routes (local/ratelimit.ts); `false` turns it off. Default: env or 100/s, burst 200. */
  rateLimit?: RateLimitOptions | false;
}

export interface LocalServiceContext {
  stack: LocalStack;
  options: LocalStackOptions;
  log: (line: string) => void;
}

export interface LocalService {
  name: string;
  describe: string;
  stop(): Promise<void>;
}

export interface StackInfo {
  url: string;
  port: number;
  dataDir: string;
  region: string;
  endpoints: { dynamodb: string; sqs: string; eventbridge: string };
  tableName: string;
  busName: string;
  queues: Record<string, string>;
  services: Record<string, string>;
}

export interface LocalStack {
  info: StackInfo;
  topology: Topology;
  env: Record<string, string>;
  /** Invoke a function of the topology by id with an event (tests, CLI replays). */
  invoke(functionId: string, event: unknown): Promise<unknown>;
  /** Resolves once every consumer queue has been seen empty after this call. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Pollers per SQS-driven function at most (the topology's `maxConcurrency` is for AWS). They share the event loop
 * with the HTTP handlers, and a triage batch costs several intake requests: fewer pollers answer HTTP faster, more
 * triage faster (`npm run bench -- e2e`: 1 poller ≈ 300 accepted/s, p99 ≈ 105 ms, ≈ 28 reports/s to the department
 * queues; 4 ≈ 180/s, ≈ 215 ms, ≈ 40/s). With more than one, merges racing a new case's announcement may re-send its
 * events (same eventId; see the triage spec in core/topology.ts). `CITYLOOP_LOCAL_POLLERS` (1 to 32) overrides it.
 */
export const LOCAL_MAX_POLLERS = 1;
export function localMaxPollers(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.CITYLOOP_LOCAL_POLLERS);
  return Number.isInteger(n) && n >= 1 && n <= 32 ? n : LOCAL_MAX_POLLERS;
}

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

const CONTEXT = {
  functionName: 'local',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:local`,
  memoryLimitInMB: '512',
  awsRequestId: 'local',
  logGroupName: 'local',
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const port = opts.port ?? 8787;
  const dataDir = resolve(opts.dataDir ?? join(ROOT, '.cityloop'));
  const log = opts.quiet ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
  mkdirSync(dataDir, { recursive: true });
  Object.assign(process.env, LOCAL_CREDENTIALS);
  const stopOnFail: (() => Promise<void>)[] = [];
  try {
    const aws = await provisionLocalAws({ dataDir });
    stopOnFail.push(aws.stop);
    const { topology, sqs, queueUrls, queueArns, tableName, busName } = aws;
    const env: Record<string, string> = { ...aws.env, CITYLOOP_DATA_DIR: dataDir };
    Object.assign(process.env, env);
    // Handlers keep SDK clients at module scope, as on Lambda; a stack restarted in the same process (tests) must not
    // reuse clients pointing at the previous emulators.
    const { resetAwsClients } = await import('#functions/lib/runtime.ts');
    resetAwsClients();

    // The same handler modules Lambda runs.
    const handlers = new Map<string, Handler>();
    for (const f of topology.functions) {
      const mod = (await import(pathToFileURL(join(ROOT, f.entry)).href)) as { handler: Handler };
      handlers.set(f.id, mod.handler);
    }
    const invoke = async (id: string, event: unknown) => {
      const h = handlers.get(id);
      if (!h) throw new Error(`no function ${id}`);
      return h(event, { ...CONTEXT, functionName: id });
    };

    const pollers: Poller[] = [];
    for (const f of topology.functions) {
      if (!f.sqs) continue;
      // Like the event source on AWS, several batches in flight at once (bounded here: one process).
      for (let i = 0; i < Math.min(f.sqs.maxConcurrency, localMaxPollers()); i++) {
        pollers.push(
          startPoller({
            sqs,
            queueUrl: queueUrls[f.sqs.queue]!,
            queueArn: queueArns[f.sqs.queue]!,
            region: REGION,
            batchSize: f.sqs.batchSize,
            handler: (e: SQSEvent) => invoke(f.id, e) as Promise<SQSBatchResponse>,
            onError: (e) => log(`[${f.id}] ${(e as Error).message}`),
          }),
        );
      }
    }
    const timers: NodeJS.Timeout[] = [];
    for (const f of topology.functions) {
      if (!f.schedule || opts.scheduleMs === 0) continue;
      const period = opts.scheduleMs ?? f.schedule.everyMinutes * 60_000;
      let busy = false;
      timers.push(
        setInterval(() => {
          if (busy) return;
          busy = true;
          invoke(f.id, scheduledEvent(f.id))
            .catch((e) => log(`[${f.id}] ${(e as Error).message}`))
            .finally(() => {
              busy = false;
            });
        }, period),
      );
    }

    const keys = loadKeys(opts.keysFile ?? process.env.CITYLOOP_KEYS_FILE ?? join(ROOT, 'config/local-keys.json'));
    const routes = compileRoutes(topology);
    const limits = opts.rateLimit ?? rateLimitFromEnv(process.env.CITYLOOP_RATE_LIMIT);
    const limiter = limits ? new TokenBucketLimiter(limits) : undefined;
    // Requests under way: stop() lets them finish before the emulators go (no write into a closed database).
    const inflight = new Set<Promise<void>>();
    const server = createServer((req, res) => {
      const p = handle(req, res, routes, keys, invoke, limiter)
        .catch((e) => {
          log(`[http] ${(e as Error).message}`);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } }));
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    });
    await listen(server, port);
    const actualPort = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${actualPort}`;

    const info: StackInfo = {
      url,
      port: actualPort,
      dataDir,
      region: REGION,
      endpoints: { dynamodb: aws.dynamo.url, sqs: aws.sqsEmulator.url, eventbridge: aws.eb.url },
      tableName,
      busName,
      queues: queueUrls,
      services: {},
    };
    const services: LocalService[] = [];
    const stack: LocalStack = {
      info,
      topology,
      env,
      invoke,
      drain: async () => {
        await Promise.all(pollers.map((p) => p.idle()));
      },
      stop: async () => {
        for (const t of timers) clearInterval(t);
        // Intake stops first (new requests are refused and retried by clients), then work under way finishes.
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 10_000).unref())]);
        for (const s of services.reverse()) await s.stop().catch(() => undefined);
        await Promise.all(pollers.map((p) => p.stop()));
        await aws.stop();
      },
    };
    for (const s of await startServices({ stack, options: opts, log })) {
      services.push(s);
      info.services[s.name] = s.describe;
    }
    writeFileSync(join(dataDir, 'stack.json'), `${JSON.stringify(info, null, 2)}\n`);
    return stack;
  } catch (e) {
    for (const stop of stopOnFail.reverse()) await stop().catch(() => undefined);
    throw e;
  }
}

async function startServices(ctx: LocalServiceContext): Promise<LocalService[]> {
  const dir = join(ROOT, 'local/services');
  if (!existsSync(dir)) return [];
  const out: LocalService[] = [];
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.ts'))
    .sort()) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as {
      start?: (c: LocalServiceContext) => Promise<LocalService>;
    };
    if (mod.start) out.push(await mod.start(ctx));
  }
  return out;
}

type LocalRoute = CompiledRoute & { spec: RouteSpec; functionId: string };

function compileRoutes(topology: Topology): LocalRoute[] {
  const routes: LocalRoute[] = [];
  for (const f of topology.functions) {
    for (const r of f.routes ?? []) routes.push({ ...compileRoute(r.method, r.path), spec: r, functionId: f.id });
  }
  // Literal segments before templates, greedy last: the order API Gateway resolves them in.
  const weight = (r: LocalRoute) => (r.path.includes('+}') ? 2 : 0) + r.params.length;
  return routes.sort((a, b) => weight(a) - weight(b));
}

const BODY_LIMIT = 12 * 1024 * 1024;

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: LocalRoute[],
  keys: LocalKey[],
  invoke: (id: string, e: unknown) => Promise<unknown>,
  limiter?: TokenBucketLimiter,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const found = matchRoute(routes, method, url.pathname);
  if (!found) {
    if ((method === 'GET' || method === 'HEAD') && serveStatic(url.pathname, res)) return;
    const known = routes.some((r) => r.regex.test(url.pathname));
    res.writeHead(known ? 405 : 404, { 'content-type': 'application/json; charset=utf-8' });
    res.end(
      JSON.stringify({
        error: known
          ? { code: 'METHOD_NOT_ALLOWED', message: `method ${method} not allowed` }
          : { code: 'NOT_FOUND', message: `no route for ${url.pathname}` },
      }),
    );
    return;
  }
  // Like API Gateway's throttling: before the authorizer, per client (a known API key, else the address).
  const taken = limiter?.take(clientKey(req, (k) => keys.some((x) => x.key === k)));
  if (taken && !taken.ok) {
    res.writeHead(429, {
      'content-type': 'application/json; charset=utf-8',
      'retry-after': String(taken.retryAfterSec),
    });
    res.end(rateLimitedBody(taken.retryAfterSec));
    return;
  }
  const auth = authorize(req, found.route.spec, keys);
  if (!auth.ok) {
    res.writeHead(401, { 'content-type': 'application/json; charset=utf-8' });
    res.end(
      JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: '需要有效的凭据 a valid credential is required' } }),
    );
    return;
  }
  // API Gateway's own payload limit is 10 MB; above it the request never reaches the function.
  const body = await readBody(req, BODY_LIMIT);
  if (body === 'too-large') {
    res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
    res.end(JSON.stringify({ error: { code: 'BODY_TOO_LARGE', message: 'request body too large' } }));
    req.destroy();
    return;
  }
  const event = toEvent(req, body, found.route, found.params, auth.authorizer);
  const result = await invoke(found.route.functionId, event);
  writeResult(res, result as never);
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The pages: `web/dist` when built, else the plain sources in `web/public`. SPA fallbacks per app folder. */
function serveStatic(pathname: string, res: ServerResponse): boolean {
  for (const base of [join(ROOT, 'web/dist'), join(ROOT, 'web/public')]) {
    if (!existsSync(base)) continue;
    const rel = normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, '');
    const candidates = [join(base, rel), join(base, rel, 'index.html'), join(base, `${rel}.html`)];
    for (const file of candidates) {
      if (!file.startsWith(base)) continue;
      if (existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, {
          'content-type': MIME[extname(file)] ?? 'application/octet-stream',
          'x-content-type-options': 'nosniff',
          'content-security-policy':
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'",
        });
        res.end(readFileSync(file));
        return true;
      }
    }
  }
  return false;
}

function scheduledEvent(id: string) {
  return {
    version: '0',
    id: `local-${Date.now()}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/cityloop-${id}-schedule`],
    detail: {},
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePromise());
  });
}
