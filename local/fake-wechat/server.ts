/**
 * A small fake of WeChat's server API for the local stack, on 127.0.0.1 only: `GET /sns/jscode2session`
 * (auth.code2Session) with a fixed table of login codes → openids, answering exactly as WeChat does (JSON labelled
 * text/plain, errcode on failure), so the mini-program login is a real HTTP exchange locally.
 * https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeWechatOptions {
  /** 0 (default): any free port. */
  port?: number;
  appId: string;
  appSecret: string;
  /** Login code → openid. */
  codes?: Record<string, string>;
  /** Real WeChat codes work once (then errcode 40163); off by default so a developer can log in again. */
  singleUse?: boolean;
}

export interface FakeWechat {
  url: string;
  port: number;
  /** code2Session calls received (for tests). */
  readonly calls: number;
  stop(): Promise<void>;
}

/** The fixed table of the local stack: `wx.login` in the simulator can be pointed at any of these codes. */
export const DEFAULT_CODES: Readonly<Record<string, string>> = {
  'test-code-001': 'oLocalCitizen00000000000001',
  'test-code-002': 'oLocalCitizen00000000000002',
  'test-code-003': 'oLocalCitizen00000000000003',
};

/** Codes that make the fake answer with WeChat's error codes, to exercise the error paths end to end. */
export const ERROR_CODES: Readonly<Record<string, { errcode: number; errmsg: string }>> = {
  'busy-code': { errcode: -1, errmsg: 'system error' },
  'risky-code': { errcode: 40226, errmsg: 'high risk user' },
  'limited-code': { errcode: 45011, errmsg: 'api minute-quota reach limit' },
};

function answer(res: ServerResponse, status: number, body: unknown): void {
  // WeChat labels its JSON as text/plain.
  res.writeHead(status, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startFakeWechat(options: FakeWechatOptions): Promise<FakeWechat> {
  const codes = new Map(Object.entries(options.codes ?? DEFAULT_CODES));
  const used = new Set<string>();
  let calls = 0;

  /** The JSON body WeChat would answer with. */
  function code2Session(params: URLSearchParams): Record<string, unknown> {
    calls += 1;
    if (params.get('appid') !== options.appId) return { errcode: 40013, errmsg: 'invalid appid' };
    if (params.get('secret') !== options.appSecret) return { errcode: 40125, errmsg: 'invalid appsecret' };
    if (params.get('grant_type') !== 'authorization_code') return { errcode: 40002, errmsg: 'invalid grant_type' };
    const code = params.get('js_code') ?? '';
    const scripted = Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code] : undefined;
    if (scripted) return scripted;
    const openid = codes.get(code);
    if (!openid) return { errcode: 40029, errmsg: 'invalid code' };
    if (options.singleUse) {
      if (used.has(code)) return { errcode: 40163, errmsg: 'code been used' };
      used.add(code);
    }
    return { openid, session_key: randomBytes(16).toString('base64') };
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/sns/jscode2session')
      answer(res, 200, code2Session(url.searchParams));
    else answer(res, 404, { errcode: 40066, errmsg: 'invalid url' });
  }

  const server = createServer((req, res) => {
    // Requests carry no body we need; drain it so keep-alive works.
    req.resume();
    route(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get calls() {
      return calls;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
