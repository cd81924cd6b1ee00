/**
 * The `wx.login` code → openid exchange (auth.code2Session) behind a port: on AWS it is HTTPS to api.weixin.qq.com
 * with the app secret, locally it is the fake WeChat server on 127.0.0.1 (still a real HTTP call).
 * API: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
 */
import * as z from 'zod/mini';
import { CityLoopError } from '#core/errors.ts';

export interface Code2SessionResult {
  openid: string;
  unionid?: string;
}

/** Rejects with CityLoopError: INVALID_LOGIN_CODE 400/401, LOGIN_BLOCKED 403, RATE_LIMITED 429, upstream 502-504. */
export interface Code2SessionPort {
  exchange(code: string): Promise<Code2SessionResult>;
}

export interface HttpCode2SessionOptions {
  /** `https://api.weixin.qq.com` on AWS, `http://127.0.0.1:<port>` for the fake server. */
  baseUrl: string;
  appId: string;
  /** AppSecret: sent only to `baseUrl`, never logged. */
  secret: string;
  fetch?: typeof fetch;
  /** Default 5000 ms. */
  timeoutMs?: number;
}

/** wx.login codes are short opaque strings; anything else never reaches WeChat. */
export const LOGIN_CODE = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_RESPONSE_CHARS = 64 * 1024;

const Answer = z.object({
  openid: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  unionid: z.optional(z.string().check(z.maxLength(128))),
  session_key: z.optional(z.string()),
  errcode: z.optional(z.number()),
  errmsg: z.optional(z.string()),
});

/** WeChat's errcode answers, as our errors. */
export function code2SessionError(errcode: number, errmsg = ''): CityLoopError {
  switch (errcode) {
    case 40029:
      return new CityLoopError('INVALID_LOGIN_CODE', 'login code is invalid, call wx.login again', 401);
    case 40163:
      return new CityLoopError('INVALID_LOGIN_CODE', 'login code was already used, call wx.login again', 401);
    case 40226:
      return new CityLoopError('LOGIN_BLOCKED', 'WeChat flagged this user as high-risk', 403);
    case 45011:
      return new CityLoopError('RATE_LIMITED', 'too many logins, try again in a minute', 429);
    case -1:
      return new CityLoopError('WECHAT_BUSY', 'WeChat is busy, try again', 503);
    default:
      // 40013 invalid appid, 40125 invalid secret ...: our configuration, not the citizen's fault.
      return new CityLoopError('WECHAT_UPSTREAM_ERROR', 'WeChat refused the login exchange', 502, {
        errcode,
        errmsg: errmsg.slice(0, 200),
      });
  }
}

export function createHttpCode2Session(options: HttpCode2SessionOptions): Code2SessionPort {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new CityLoopError('WECHAT_CONFIG_INVALID', 'code2Session base URL must be http(s)', 500);
  }
  if (!options.appId || !options.secret) {
    throw new CityLoopError('WECHAT_CONFIG_INVALID', 'code2Session needs appId and secret', 500);
  }

  return {
    async exchange(code) {
      if (!LOGIN_CODE.test(code)) throw new CityLoopError('INVALID_LOGIN_CODE', 'login code is malformed', 400);
      const url = new URL('/sns/jscode2session', base);
      url.search = new URLSearchParams({
        appid: options.appId,
        secret: options.secret,
        js_code: code,
        grant_type: 'authorization_code',
      }).toString();
      let status: number;
      let text: string;
      try {
        const res = await doFetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
        status = res.status;
        text = await res.text();
      } catch {
        // The URL carries the secret: the cause is not passed on.
        throw new CityLoopError('WECHAT_UNAVAILABLE', 'WeChat code2Session could not be reached', 504);
      }
      if (status < 200 || status >= 300) {
        throw new CityLoopError('WECHAT_UPSTREAM_ERROR', `code2Session answered HTTP ${status}`, 502);
      }
      if (text.length > MAX_RESPONSE_CHARS) {
        throw new CityLoopError('WECHAT_UPSTREAM_ERROR', 'code2Session answer too large', 502);
      }
      let json: unknown;
      try {
        // WeChat answers JSON, sometimes labelled text/plain.
        json = JSON.parse(text);
      } catch {
        throw new CityLoopError('WECHAT_UPSTREAM_ERROR', 'code2Session answer is not JSON', 502);
      }
      const answer = Answer.safeParse(json);
      if (!answer.success) throw new CityLoopError('WECHAT_UPSTREAM_ERROR', 'code2Session answer is malformed', 502);
      const { openid, unionid, errcode, errmsg } = answer.data;
      if (errcode !== undefined && errcode !== 0) throw code2SessionError(errcode, errmsg);
      if (!openid) throw new CityLoopError('WECHAT_UPSTREAM_ERROR', 'code2Session answer has no openid', 502);
      return unionid ? { openid, unionid } : { openid };
    },
  };
}
