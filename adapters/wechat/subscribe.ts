/**
 * WeChat subscribe messages over HTTP: `POST /cgi-bin/message/subscribe/send?access_token=…` with the access token
 * from `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`, cached until shortly before it expires and
 * shared by concurrent sends. The base URL is `https://api.weixin.qq.com` on AWS, a fake on 127.0.0.1 in tests.
 * https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getAccessToken.html
 * https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
 */
import { CityLoopError } from '#core/errors.ts';
import { type SubscribeOutcome, subscribeOutcome, type TemplateData } from '#core/notify/wechat.ts';
import type { Clock } from '#core/ports.ts';

export interface SubscribeMessage {
  touser: string;
  template_id: string;
  page?: string;
  data: TemplateData;
  /** `developer` | `trial` | `formal` (default formal). */
  miniprogram_state?: string;
  lang?: 'zh_CN' | 'en_US' | 'zh_HK' | 'zh_TW';
}

export interface SubscribeResult {
  outcome: Extract<SubscribeOutcome, 'sent' | 'drop'>;
  errcode: number;
  /** Whether the access token was refreshed on the way (40001/42001). */
  refreshed: boolean;
}

export interface WechatSubscribeOptions {
  baseUrl: string;
  appId: string;
  /** AppSecret: sent only to `baseUrl`, never logged. */
  secret: string;
  fetch?: typeof fetch;
  /** Per HTTP call; default 4000 ms (a send may take a token fetch, a send, a refresh and a resend). */
  timeoutMs?: number;
  clock?: Clock;
}

/** Tokens are dropped this long before WeChat's `expires_in` (7200 s), so none expires in flight. */
export const TOKEN_MARGIN_MS = 300_000;
const MAX_RESPONSE_CHARS = 64 * 1024;

interface Token {
  value: string;
  expiresAt: number;
}

export class WechatSubscribeClient {
  private readonly doFetch: typeof fetch;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private cached: Token | undefined;
  private inflight: Promise<Token> | undefined;
  /** Token requests made (for logs and tests). */
  tokenFetches = 0;

  constructor(private readonly options: WechatSubscribeOptions) {
    this.doFetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 4000;
    this.clock = options.clock ?? { now: () => new Date() };
    this.base = new URL(options.baseUrl);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') {
      throw new CityLoopError('WECHAT_CONFIG_INVALID', 'WeChat API base URL must be http(s)', 500);
    }
    if (!options.appId || !options.secret) {
      throw new CityLoopError(
        'WECHAT_CONFIG_INVALID',
        'subscribe messages need the mini-program appId and secret',
        500,
      );
    }
  }

  /**
   * Sends one subscribe message. Resolves `sent`, or `drop` for 43101 (the citizen refused the subscription);
   * rejects with `WECHAT_SEND_FAILED` (details.errcode) for any other errcode, and with `WECHAT_UNAVAILABLE` /
   * `WECHAT_UPSTREAM_ERROR` when WeChat cannot be reached or answers nonsense.
   */
  async send(message: SubscribeMessage): Promise<SubscribeResult> {
    let token = await this.accessToken();
    let refreshed = false;
    for (;;) {
      const answer = await this.call(
        new URL(`/cgi-bin/message/subscribe/send?access_token=${encodeURIComponent(token.value)}`, this.base),
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) },
        'subscribe/send',
      );
      const errcode = typeof answer.errcode === 'number' ? answer.errcode : 0;
      const outcome = subscribeOutcome(errcode);
      if (outcome === 'sent' || outcome === 'drop') return { outcome, errcode, refreshed };
      if (outcome === 'refresh-token' && !refreshed) {
        this.invalidate(token);
        token = await this.accessToken();
        refreshed = true;
        continue;
      }
      throw new CityLoopError('WECHAT_SEND_FAILED', `subscribe/send answered errcode ${errcode}`, 502, {
        errcode,
        errmsg: String(answer.errmsg ?? '').slice(0, 200),
      });
    }
  }

  /** The cached token while it is fresh, else one fetched now (a single request for concurrent callers). */
  private accessToken(): Promise<Token> {
    if (this.cached && this.cached.expiresAt > this.clock.now().getTime()) return Promise.resolve(this.cached);
    this.inflight ??= this.fetchToken()
      .then((t) => {
        this.cached = t;
        return t;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /** Forgets `token` if it is still the cached one (a newer token from a concurrent refresh is kept). */
  private invalidate(token: Token): void {
    if (this.cached === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<Token> {
    this.tokenFetches++;
    const url = new URL('/cgi-bin/token', this.base);
    url.search = new URLSearchParams({
      grant_type: 'client_credential',
      appid: this.options.appId,
      secret: this.options.secret,
    }).toString();
    const answer = await this.call(url, { method: 'GET' }, 'token');
    if (typeof answer.errcode === 'number' && answer.errcode !== 0) {
      throw new CityLoopError('WECHAT_TOKEN_FAILED', `token answered errcode ${answer.errcode}`, 502, {
        errcode: answer.errcode,
        errmsg: String(answer.errmsg ?? '').slice(0, 200),
      });
    }
    const value = answer.access_token;
    const expiresIn = answer.expires_in;
    if (typeof value !== 'string' || value === '') {
      throw new CityLoopError('WECHAT_UPSTREAM_ERROR', 'token answer has no access_token', 502);
    }
    const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 7200;
    return { value, expiresAt: this.clock.now().getTime() + Math.max(seconds * 1000 - TOKEN_MARGIN_MS, 0) };
  }

  private async call(url: URL, init: RequestInit, what: string): Promise<Record<string, unknown>> {
    let status: number;
    let text: string;
    try {
      const res = await this.doFetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      status = res.status;
      text = await res.text();
    } catch {
      // The URL carries the secret or the token: the cause is not passed on.
      throw new CityLoopError('WECHAT_UNAVAILABLE', `WeChat ${what} could not be reached`, 504);
    }
    if (status < 200 || status >= 300) {
      throw new CityLoopError('WECHAT_UPSTREAM_ERROR', `WeChat ${what} answered HTTP ${status}`, 502);
    }
    if (text.length > MAX_RESPONSE_CHARS) {
      throw new CityLoopError('WECHAT_UPSTREAM_ERROR', `WeChat ${what} answer too large`, 502);
    }
    let json: unknown;
    try {
      // WeChat answers JSON, sometimes labelled text/plain.
      json = JSON.parse(text);
    } catch {
      throw new CityLoopError('WECHAT_UPSTREAM_ERROR', `WeChat ${what} answer is not JSON`, 502);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new CityLoopError('WECHAT_UPSTREAM_ERROR', `WeChat ${what} answer is not an object`, 502);
    }
    return json as Record<string, unknown>;
  }
}
