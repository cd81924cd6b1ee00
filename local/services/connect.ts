/**
 * Local stand-in for Amazon Connect invoking the `connect-contact` function: POST a contact flow event (the shape of
 * ../shared/data/aws-events/connectContactFlowEvent*.json) to `http://127.0.0.1:<port>/connect` and get back the
 * attributes the flow would receive. `npx cityloop connect-event file.json` finds the URL in `stack.json`
 * (`services.connect`). Loopback only, and not an API Gateway route: on AWS nothing but Connect invokes the function.
 * Port: `CONNECT_PORT`, default 0 (any free port; `describe` shows the real one).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalService, LocalServiceContext } from '../stack.ts';

export const FUNCTION_ID = 'connect-contact';
export const SERVICE_NAME = 'connect';
const BODY_LIMIT = 64 * 1024;

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function readJson(
  req: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; status: number; code: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) return { ok: false, status: 413, code: 'BODY_TOO_LARGE' };
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, status: 400, code: 'MALFORMED_JSON' };
  }
}

export async function start(ctx: LocalServiceContext): Promise<LocalService> {
  const port = Number(process.env.CONNECT_PORT ?? 0);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== '/connect') return reply(res, 404, { error: { code: 'NOT_FOUND', message: 'POST /connect' } });
    if (req.method !== 'POST') return reply(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'POST only' } });
    readJson(req)
      .then(async (body) => {
        if (!body.ok)
          return reply(res, body.status, { error: { code: body.code, message: 'a JSON contact flow event' } });
        // The function never throws by design; whatever it answers is what the flow would get.
        const attributes = await ctx.stack.invoke(FUNCTION_ID, body.value);
        reply(res, 200, attributes);
      })
      .catch((e: Error) => {
        ctx.log(`[connect] ${e.message}`);
        if (!res.headersSent) reply(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    name: SERVICE_NAME,
    describe: `POST http://127.0.0.1:${actual}/connect (Amazon Connect 来电事件回放 contact flow events)`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
