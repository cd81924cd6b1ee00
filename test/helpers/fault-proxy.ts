/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of a local AWS emulator (dynalite, our EventBridge): the
 * handlers' SDK clients are pointed at it (`AWS_ENDPOINT_URL_DYNAMODB` / `_EVENTBRIDGE`), so faults hit the real
 * SDK with its real retries, on the wire:
 * - `throttle`: answers 400 ThrottlingException without forwarding (the SDK retries, then gives up);
 * - `error500`: answers 500 InternalServerError without forwarding;
 * - `drop-response`: forwards, lets the emulator APPLY the call, then cuts the connection before the answer
 *   (a timeout after the write: the SDK retries a call that already happened);
 * - `partial` (PutEvents only): forwards only some entries and answers FailedEntryCount for the others.
 * Bounded: it only serves loopback and stops with `stop()`.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyFault = 'pass' | 'throttle' | 'error500' | 'drop-response' | 'partial';

export interface FaultProxyOptions {
  /** The emulator's base URL now (it changes when the stack restarts). */
  upstream: () => string;
  /** Decides the fault of one call from its `X-Amz-Target` (e.g. `DynamoDB_20120810.PutItem`, `AWSEvents.PutEvents`). */
  decide: (target: string) => ProxyFault;
  /** Share of PutEvents entries failed by `partial`; default 0.5. */
  partialShare?: number;
}

export interface FaultProxy {
  url: string;
  stats: Record<ProxyFault, number>;
  stop(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function forward(
  upstream: string,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const url = new URL(req.url ?? '/', upstream);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
  }
  headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const out = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method, headers },
      async (res) => {
        try {
          const data = await readAll(res);
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (typeof v === 'string' && k !== 'content-length' && k !== 'connection' && k !== 'transfer-encoding') {
              h[k] = v;
            }
          }
          resolve({ status: res.statusCode ?? 500, headers: h, body: data });
        } catch (e) {
          reject(e);
        }
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}

function reply(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string): void {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'content-length': String(b.length) });
  res.end(b);
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const stats: Record<ProxyFault, number> = { pass: 0, throttle: 0, error500: 0, 'drop-response': 0, partial: 0 };
  const share = opts.partialShare ?? 0.5;
  const server = createServer(async (req, res) => {
    try {
      const body = await readAll(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      let fault = opts.decide(target);
      if (fault === 'partial' && !target.endsWith('.PutEvents')) fault = 'pass';
      stats[fault]++;
      const json = { 'content-type': 'application/x-amz-json-1.1' };
      if (fault === 'throttle') {
        reply(
          res,
          400,
          { ...json, 'x-amzn-errortype': 'ThrottlingException' },
          JSON.stringify({
            __type: 'ThrottlingException',
            message: 'Rate exceeded (injected)',
          }),
        );
        return;
      }
      if (fault === 'error500') {
        reply(
          res,
          500,
          { ...json, 'x-amzn-errortype': 'InternalServerError' },
          JSON.stringify({
            __type: 'InternalServerError',
            message: 'injected',
          }),
        );
        return;
      }
      if (fault === 'partial') {
        const input = JSON.parse(body.toString('utf8')) as { Entries?: unknown[] };
        const entries = input.Entries ?? [];
        const failed = new Set(entries.map((_, i) => i).filter((i) => (i * 7919 + entries.length) % 100 < share * 100));
        if (failed.size === entries.length && entries.length > 1) failed.delete(0);
        const kept = entries.filter((_, i) => !failed.has(i));
        let results: unknown[] = [];
        if (kept.length > 0) {
          const up = await forward(opts.upstream(), req, Buffer.from(JSON.stringify({ ...input, Entries: kept })));
          if (up.status !== 200) {
            reply(res, up.status, up.headers, up.body);
            return;
          }
          results = (JSON.parse(up.body.toString('utf8')) as { Entries?: unknown[] }).Entries ?? [];
        }
        let k = 0;
        const merged = entries.map((_, i) =>
          failed.has(i) ? { ErrorCode: 'InternalFailure', ErrorMessage: 'injected partial failure' } : results[k++],
        );
        const upstreamFailed = merged.filter((e) => (e as { ErrorCode?: string })?.ErrorCode).length;
        reply(res, 200, json, JSON.stringify({ FailedEntryCount: upstreamFailed, Entries: merged }));
        return;
      }
      const up = await forward(opts.upstream(), req, body);
      if (fault === 'drop-response') {
        res.socket?.destroy();
        return;
      }
      reply(res, up.status, up.headers, up.body);
    } catch {
      if (!res.headersSent) reply(res, 502, {}, 'proxy error');
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
